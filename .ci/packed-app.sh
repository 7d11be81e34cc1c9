#!/usr/bin/env bash
# Packed-package test: `npm pack` both packages (the library and the healthlake-emulator
# workspace), install the tarballs into a fresh app in a temporary folder, compile
# .ci/packed-app/main.ts there with the app's own TypeScript (types through the packages' `exports`
# maps), and run it end to end on the local stack from `temporal-healthlake/testing`. Fails on any
# webpack/source-map warning in the run. Then a second fresh app with the library tarball alone
# (and its peers, no emulator): what a production user installs; prints its size, split into the
# library with its own dependencies and Temporal's SDK (a peer every Temporal TypeScript app has).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
app="$(mktemp -d "${TMPDIR:-/tmp}/healthlake-packed-app-XXXXXX")"

lib_app="$(mktemp -d "${TMPDIR:-/tmp}/healthlake-library-app-XXXXXX")"
trap 'rm -rf "$app" "$lib_app"' EXIT

mkdir "$app/tarball"
# The emulator first: the library's prepack build compiles against emulator/dist's types.
emulator_tarball="$app/tarball/$(cd "$repo" && npm pack --silent -w emulator --pack-destination "$app/tarball" | tail -1)"
tarball="$app/tarball/$(cd "$repo" && npm pack --silent --pack-destination "$app/tarball" | tail -1)"
ts_version="$(node -p "require('$repo/node_modules/typescript/package.json').version")"
types_version="$(node -p "require('$repo/node_modules/@types/node/package.json').version")"

cd "$app"
echo '{ "name": "packed-app", "version": "1.0.0", "private": true, "type": "commonjs" }' > package.json
# From npm's cache first: the registry is asked only for what the cache lacks.
npm install --prefer-offline --no-audit --no-fund --loglevel=error "$tarball" "$emulator_tarball" \
  "typescript@$ts_version" "@types/node@$types_version"
cat > tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "node16",
    "moduleResolution": "node16",
    "strict": true,
    "skipLibCheck": true,
    "outDir": "out",
    "types": ["node"]
  },
  "files": ["main.ts"]
}
JSON
cp "$repo/.ci/packed-app/main.ts" main.ts
npx tsc -p tsconfig.json

# Reuse the repository's local tools (Temporal CLI, moto) instead of a second PyPI install.
TEMPORAL_HEALTHLAKE_TOOLS_DIR="$repo/.tools" node out/main.js 2>&1 | tee run.log
if grep -iE "source ?map|Failed to parse|webpack.*warn" run.log; then
  echo "packed app: the run printed a webpack or source-map warning (above)" >&2
  exit 1
fi
grep -q "packed app: import COMPLETED" run.log

total_kb=$(du -sk node_modules | cut -f1)
toolchain_kb=$(du -sk node_modules/typescript node_modules/@types/node | awk '{s += $1} END {print s}')
echo "packed app (library + emulator): node_modules $((total_kb / 1024)) MiB; without the app's TypeScript toolchain $(((total_kb - toolchain_kb) / 1024)) MiB"
echo "packed app: largest: $(du -sk node_modules/* node_modules/@*/* 2>/dev/null | sort -rn | head -4 | awk '{printf "%s %d MiB; ", $2, $1/1024}')"

# The library alone, as production installs it: its tarball; npm adds its required peers
# (@temporalio/*); the optional peer healthlake-emulator stays out.
cd "$lib_app"
echo '{ "name": "library-app", "version": "1.0.0", "private": true, "type": "commonjs" }' > package.json
npm install --prefer-offline --no-audit --no-fund --loglevel=error "$tarball"
if [ -e node_modules/healthlake-emulator ] || [ -e node_modules/@medplum ]; then
  echo "library app: the emulator (or @medplum) was installed with the library alone" >&2
  exit 1
fi
node -e "require('temporal-healthlake/worker'); require('temporal-healthlake/client')"
# Without the optional peer, the testing entry and the emulator command say what to install.
if node -e "require('temporal-healthlake/testing')" 2> testing.err; then
  echo "library app: temporal-healthlake/testing loaded without healthlake-emulator" >&2
  exit 1
fi
grep -q "npm install --save-dev healthlake-emulator" testing.err
set +e
npx --no-install temporal-healthlake emulator 2> emulator.err
emulator_code=$?
set -e
echo "library app: without healthlake-emulator, 'temporal-healthlake emulator' exits $emulator_code: $(cat emulator.err)"
[ "$emulator_code" = 2 ]

lib_total_kb=$(du -sk node_modules | cut -f1)
temporal_kb=$(du -sk node_modules/@temporalio | cut -f1)
largest="$(du -sk node_modules/* node_modules/@*/* 2>/dev/null | sort -rn | head -6 | awk '{printf "%s %.1f MiB; ", $2, $1/1024}')"
# The library and its own dependencies only: the same install without the peers.
rm -rf node_modules package-lock.json
echo '{ "name": "library-app", "version": "1.0.0", "private": true, "type": "commonjs" }' > package.json
npm install --prefer-offline --no-audit --no-fund --loglevel=error --omit=peer "$tarball"
own_kb=$(du -sk node_modules | cut -f1)
# For comparison, a Temporal app without this library: the same @temporalio peers alone.
peers="$(node -p "Object.entries(require('$repo/package.json').peerDependencies).filter(([n]) => n.startsWith('@temporalio/')).map(([n, v]) => n + '@' + v).join(' ')")"
rm -rf node_modules package-lock.json
echo '{ "name": "temporal-app", "version": "1.0.0", "private": true, "type": "commonjs" }' > package.json
# shellcheck disable=SC2086 # one word per package
npm install --prefer-offline --no-audit --no-fund --loglevel=error $peers
bare_kb=$(du -sk node_modules | cut -f1)
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f MiB (%.1f MB)", kb / 1024, kb * 1024 / 1e6 }'; }
echo "library app (the library alone + its required peers, no emulator): node_modules $(mib "$lib_total_kb")"
echo "library app:   the library + its own non-peer dependencies (AWS SDK clients, commander): $(mib "$own_kb")"
echo "library app:   @temporalio/* (peers; core-bridge ships native binaries for 5 platforms): $(mib "$temporal_kb")"
echo "library app:   the rest (what the Temporal SDK itself depends on: webpack, swc, protobufjs, ...): $(mib $((lib_total_kb - own_kb - temporal_kb)))"
echo "library app:   a Temporal app without this library (the same @temporalio peers alone): $(mib "$bare_kb"); the library adds $(mib $((lib_total_kb - bare_kb)))"
echo "library app: largest: $largest"
