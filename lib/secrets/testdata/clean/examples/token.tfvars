proxmox_api_token_secret = "00000000-0000-0000-0000-000000000000" # secrets:allow (documented example)
