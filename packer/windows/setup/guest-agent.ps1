# The virtio drivers and the QEMU guest agent from the virtio-win ISO, so PVE
# sees the VM's address (Packer waits for it through the agent).
$ErrorActionPreference = 'Stop'
$drive = Get-PSDrive -PSProvider FileSystem | Where-Object { Test-Path (Join-Path $_.Root 'guest-agent\qemu-ga-x86_64.msi') } | Select-Object -First 1
if (-not $drive) { throw 'virtio-win ISO not found: no drive has guest-agent\qemu-ga-x86_64.msi' }
$root = $drive.Root
$drivers = Join-Path $root 'virtio-win-gt-x64.msi'
if (Test-Path $drivers) { Start-Process msiexec.exe -Wait -ArgumentList @('/i', $drivers, '/qn', '/norestart') }
Start-Process msiexec.exe -Wait -ArgumentList @('/i', (Join-Path $root 'guest-agent\qemu-ga-x86_64.msi'), '/qn', '/norestart')
Set-Service QEMU-GA -StartupType Automatic
Start-Service QEMU-GA
