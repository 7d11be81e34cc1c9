#!/usr/bin/env bash
# Packed-package test: `npm pack` this package, install the tarball into a fresh app in a temporary
# folder, compile .ci/packed-app/main.ts there with the app's own TypeScript (types through the
# package's `exports` map), and run it end to end on the local stack from `temporal-healthlake/testing`.
# Fails on any webpack/source-map warning in the run. Prints the app's installed size.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
app="$(mktemp -d "${TMPDIR:-/tmp}/healthlake-packed-app-XXXXXX")"
trap 'rm -rf "$app"' EXIT

mkdir "$app/tarball"
tarball="$app/tarball/$(cd "$repo" && npm pack --silent --pack-destination "$app/tarball" | tail -1)"
ts_version="$(node -p "require('$repo/node_modules/typescript/package.json').version")"
types_version="$(node -p "require('$repo/node_modules/@types/node/package.json').version")"

cd "$app"
echo '{ "name": "packed-app", "version": "1.0.0", "private": true, "type": "commonjs" }' > package.json
# From npm's cache first: the registry is asked only for what the cache lacks.
npm install --prefer-offline --no-audit --no-fund --loglevel=error "$tarball" \
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
echo "packed app: node_modules $((total_kb / 1024)) MiB; without the app's TypeScript toolchain $(((total_kb - toolchain_kb) / 1024)) MiB"
echo "packed app: largest: $(du -sk node_modules/* node_modules/@*/* 2>/dev/null | sort -rn | head -4 | awk '{printf "%s %d MiB; ", $2, $1/1024}')"
