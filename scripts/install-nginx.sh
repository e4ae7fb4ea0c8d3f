#!/usr/bin/env bash
# Install nginx (Debian package) for the production profile (`make run-prod`).
# Idempotent: does nothing when an nginx binary is already on PATH or in /usr/sbin.
# Gehoor never uses the system nginx service: `gehoor run-prod` starts nginx as its own
# child process with a generated config under var/prod/ (the Debian package's service is
# stopped and disabled again if the install started it).
set -euo pipefail

if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-nginx: nginx is missing and this is not a Debian/Ubuntu system." >&2
  echo "Install nginx (>= 1.18) with your package manager, then run 'make run-prod' again." >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-nginx: run as root or install sudo: apt-get install -y nginx-light" >&2; exit 1
  fi
fi

echo "install-nginx: installing the Debian package nginx-light (apt-get)"
# policy-rc.d 101: the package must not start the system service (Debian convention).
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod +x "$POLICY"
  CREATED_POLICY=1
fi
cleanup() { if [ "$CREATED_POLICY" = 1 ]; then $SUDO rm -f "$POLICY"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends nginx-light; then
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends nginx-light
fi
# In case a service manager started it anyway: Gehoor runs its own nginx.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true
fi
/usr/sbin/nginx -v
