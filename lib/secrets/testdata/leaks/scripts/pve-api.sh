#!/usr/bin/env bash
set -euo pipefail
curl -fsS -H "Authorization: PVEAPIToken=root@pam!ci=c8ff1c38-5f93-4180-85ef-5cfb3099f271" \
  https://10.10.2.2:8006/api2/json/nodes
