# WinRM over HTTPS for the build: a self-signed certificate for this host, an
# HTTPS listener on 5986 and a firewall rule for it. Packer connects with
# winrm_insecure because no CA knows this certificate (README.md);
# windows_baseline keeps the HTTPS listener and removes plain HTTP.
$ErrorActionPreference = 'Stop'
Get-NetConnectionProfile | Where-Object NetworkCategory -ne 'DomainAuthenticated' | Set-NetConnectionProfile -NetworkCategory Private
Enable-PSRemoting -SkipNetworkProfileCheck -Force
$cert = New-SelfSignedCertificate -DnsName $env:COMPUTERNAME -CertStoreLocation Cert:\LocalMachine\My -NotAfter (Get-Date).AddDays(30)
Get-ChildItem WSMan:\localhost\Listener | Where-Object { $_.Keys -contains 'Transport=HTTPS' } | Remove-Item -Recurse -Force
New-Item -Path WSMan:\localhost\Listener -Transport HTTPS -Address * -CertificateThumbPrint $cert.Thumbprint -Port 5986 -Force | Out-Null
Set-Item WSMan:\localhost\Service\AllowUnencrypted -Value $false
New-NetFirewallRule -Name 'winrm-https-packer' -DisplayName 'WinRM HTTPS (Packer build)' -Direction Inbound -Protocol TCP -LocalPort 5986 -Action Allow -Profile Any | Out-Null
Set-Service WinRM -StartupType Automatic
Restart-Service WinRM
