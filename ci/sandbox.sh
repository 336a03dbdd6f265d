#!/usr/bin/env bash
# A throwaway project to try promotion on: a copy of the examples whose dev, test and prod are all embedded (prod is
# a real warehouse in this repository's own lastmile.config.ts), in its own git repository, with `npx lastmile`
# pointing at this checkout. ci/pipeline-e2e.sh runs the pipeline in one; the README's walkthrough uses one.
#   ci/sandbox.sh DIR      (DIR must not exist, or be empty)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:?usage: ci/sandbox.sh DIR (a new folder for the throwaway project)}"
if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
  echo "ci/sandbox.sh: $dir exists and is not empty; name a new folder" >&2
  exit 2
fi
mkdir -p "$dir"
cp -r "$repo/products" "$repo/seed" "$dir/"
mkdir -p "$dir/node_modules/.bin"
ln -s "$repo" "$dir/node_modules/lastmile"
ln -s "$repo/bin/lastmile.js" "$dir/node_modules/.bin/lastmile"
printf '{ "name": "shop-data", "private": true, "type": "module" }\n' > "$dir/package.json"
printf 'node_modules/\n.lastmile/\n*.sarif\nplan.md\nplan.json\n' > "$dir/.gitignore"
cat > "$dir/lastmile.config.ts" <<'CONFIG'
import { defineConfig } from 'lastmile';
// A sandbox: dev, test and prod are all embedded (each its own database under .lastmile/pg).
export default defineConfig({
  environments: { dev: {}, test: {}, prod: {} },
  promotion: ['dev', 'test', 'prod'],
  seed: './seed/retailer/index.ts',
});
CONFIG
git -C "$dir" init -q -b main
git -C "$dir" -c user.name=sandbox -c user.email=sandbox@example.com add -A
git -C "$dir" -c user.name=sandbox -c user.email=sandbox@example.com commit -qm "the examples"
echo "ci/sandbox.sh: a project with embedded dev, test and prod in $dir (cd there; npx lastmile … runs this checkout)" >&2
