#!/bin/sh
# Install Debian's chromium for the review app's browser test (tests/review/test_browser.py).
# Idempotent: does nothing when /usr/bin/chromium already exists. Never runs `playwright install`.
set -eu
if [ -x /usr/bin/chromium ]; then
    echo "chromium already installed: /usr/bin/chromium"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium
test -x /usr/bin/chromium
echo "chromium installed: /usr/bin/chromium"
