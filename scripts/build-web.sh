#!/bin/sh
# Build the website widget's only dependency: install socket.io-client from web/package-lock.json
# (npm ci) and copy its browser build to web/static/vendor/. Idempotent and quick when nothing
# changed (a hash of package-lock.json is kept in web/node_modules/.gehoor-lock.sha256).
# Nothing is downloaded at run time: the widget loads vendor/socket.io.min.js from our own server.
set -eu
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
WEB="$ROOT/web"
SRC="$WEB/node_modules/socket.io-client/dist/socket.io.min.js"
DEST_DIR="$WEB/static/vendor"
STAMP="$WEB/node_modules/.gehoor-lock.sha256"

if ! command -v npm >/dev/null 2>&1; then
    echo "build-web: npm not found; install Node.js 18+ and npm (Debian: apt-get install nodejs npm)" >&2
    exit 1
fi

if command -v sha256sum >/dev/null 2>&1; then
    LOCK_HASH=$(sha256sum "$WEB/package-lock.json" | cut -d' ' -f1)
else  # macOS
    LOCK_HASH=$(shasum -a 256 "$WEB/package-lock.json" | cut -d' ' -f1)
fi
if [ -f "$SRC" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$LOCK_HASH" ]; then
    echo "build-web: node_modules up to date"
else
    echo "build-web: npm ci in web/"
    (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$LOCK_HASH" > "$STAMP"
fi

mkdir -p "$DEST_DIR"
for file in socket.io.min.js socket.io.min.js.map; do
    if ! cmp -s "$WEB/node_modules/socket.io-client/dist/$file" "$DEST_DIR/$file" 2>/dev/null; then
        cp "$WEB/node_modules/socket.io-client/dist/$file" "$DEST_DIR/$file"
        echo "build-web: copied $file to web/static/vendor/"
    fi
done
echo "build-web: web/static/vendor/socket.io.min.js ($(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$WEB/node_modules/socket.io-client/package.json" | head -1))"
