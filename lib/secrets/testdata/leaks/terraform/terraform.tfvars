proxmox_url       = "https://10.10.2.2:8006/api2/json"
proxmox_api_token = "terraform@pve!infra=076d490a-e25f-4b1c-ad80-de7cf4c73f2b"
