#!/usr/bin/env bash
curl -H "Authorization: PVEAPIToken=${PROXMOX_TOKEN_ID}=${PROXMOX_TOKEN_SECRET}" "$PROXMOX_URL/nodes"
