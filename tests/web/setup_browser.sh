#!/usr/bin/env bash
# Install what the web e2e test needs, idempotently and quietly:
#   - Debian's chromium (/usr/bin/chromium), via apt-get when missing (root, or sudo without a password);
#   - a font with Chinese glyphs (fonts-wqy-microhei) the same way, for the zh-CN pages;
#   - playwright-core from npm, into a cache directory outside the repo.
# Prints one line: the node_modules directory that holds playwright-core.
# Exit codes: 0 ready; 3 chromium cannot be installed here; 4 node/npm or playwright-core missing.
# Never downloads a browser through npm (playwright-core ships none; `npx playwright install` is not used).
set -euo pipefail

CACHE_DIR="${MARKETNODE_WEB_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/marketnode-web}"
PLAYWRIGHT_VERSION="${MARKETNODE_PLAYWRIGHT_VERSION:-1.65.1}"  # known to drive Debian's chromium 156

log() { echo "setup_browser: $*" >&2; }

if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
        log "chromium is missing and this user cannot install packages (not root, no passwordless sudo)"
        exit 3
    fi
    log "installing Debian's chromium (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    if ! { $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq chromium >/dev/null; }; then
        log "apt-get could not install chromium"
        exit 3
    fi
fi
[ -x /usr/bin/chromium ] || { log "chromium still missing after install"; exit 3; }

# A font with Chinese glyphs, for the zh-CN pages and their screenshots (else every character is a box).
if ! dpkg -s fonts-wqy-microhei >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
    if [ "$SUDO" != none ]; then
        log "installing a Chinese font (fonts-wqy-microhei, apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        { $SUDO apt-get install -y -qq fonts-wqy-microhei >/dev/null 2>&1 ||
          { $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq fonts-wqy-microhei >/dev/null; }; } ||
            log "could not install fonts-wqy-microhei: Chinese text will show as boxes"
    else
        log "no Chinese font (fonts-wqy-microhei) and no way to install it: Chinese text will show as boxes"
    fi
fi

command -v npm >/dev/null || { log "npm is missing: install Node.js and npm"; exit 4; }
installed_version() {
    node -p "require('$CACHE_DIR/node_modules/playwright-core/package.json').version" 2>/dev/null || true
}
if [ "$(installed_version)" != "$PLAYWRIGHT_VERSION" ]; then
    log "installing playwright-core@$PLAYWRIGHT_VERSION into $CACHE_DIR"
    mkdir -p "$CACHE_DIR"
    [ -f "$CACHE_DIR/package.json" ] || echo '{"name": "marketnode-web-e2e", "private": true}' > "$CACHE_DIR/package.json"
    if ! npm install --prefix "$CACHE_DIR" --no-audit --no-fund --silent "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null; then
        log "npm could not install playwright-core"
        exit 4
    fi
fi
echo "$CACHE_DIR/node_modules"
