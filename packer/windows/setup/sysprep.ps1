# Generalize the build VM: copy the clones' answer file from this CD to
# C:\Windows\Panther, remove the build's WinRM firewall rule, then sysprep
# /generalize /oobe /shutdown. The VM powers itself off when sysprep is done.
$ErrorActionPreference = 'Stop'
$src = Join-Path (Split-Path -Parent $PSScriptRoot) 'sysprep-unattend.xml'
if (-not (Test-Path $src)) { throw "sysprep answer file not found at $src" }
$dest = 'C:\Windows\Panther\unattend.xml'
Copy-Item $src $dest -Force
Remove-NetFirewallRule -Name 'winrm-https-packer' -ErrorAction SilentlyContinue
Start-Process -FilePath "$env:SystemRoot\System32\Sysprep\sysprep.exe" -ArgumentList @('/generalize', '/oobe', '/shutdown', '/quiet', "/unattend:$dest")
