#!/usr/bin/env bash
# The example pipeline's steps end to end on a throwaway copy of the examples with embedded dev, test and prod
# (.ci/run calls this after the test suite): pull request (validate, lint, plan), merge (deploy to test, the test
# result recorded), promotion (the gates refuse, an override with a reason promotes and is ledgered), and a breaking
# change caught at plan time. Each step's outcome is checked; any surprise fails the script.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/lastmile-pipeline-XXXXXX")"
cleanup() {
  # stop the embedded PostgreSQL the steps left running, then remove the copy
  if [ -f "$work/.lastmile/pg/postmaster.pid" ]; then kill -INT "$(head -1 "$work/.lastmile/pg/postmaster.pid")" 2>/dev/null || true; sleep 2; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$repo/ci/sandbox.sh" "$work" 2>/dev/null

export LASTMILE="node $repo/bin/lastmile.js" LASTMILE_ROOT="$work" LASTMILE_DEPLOYER="pipeline-e2e"
expect_fail() {
  if "$@"; then echo "pipeline-e2e: expected '$*' to fail, and it passed" >&2; exit 1; fi
}
cd "$work"

# pull request
"$repo/ci/validate.sh"
"$repo/ci/lint.sh"
"$repo/ci/plan.sh" test
grep -q '5 new, 0 changed, 0 removed' plan.md

# merge to main: deploy to test, serve once, record the suite's result at this commit (the real suite ran before
# this script in .ci/run, so the command here only stands for it)
"$repo/ci/deploy.sh" test
for product in ad_bids lead_scores partner_invoices returns_by_supplier supplier_quality_share; do
  $LASTMILE run "$product" --env test --root "$work" >/dev/null
done
LASTMILE_TEST_COMMAND=true "$repo/ci/test.sh" test

# promotion: the examples' deadline and freshness SLOs have no measurements in test yet, so the gates refuse
expect_fail env PROMOTE_RUNS=1 "$repo/ci/promote.sh" test prod
PROMOTE_RUNS=1 PROMOTE_OVERRIDE="pipeline e2e: the SLO monitors have not measured test yet" "$repo/ci/promote.sh" test prod
$LASTMILE deployments --env prod --root "$work" --json | node -e '
  const rows = JSON.parse(require("fs").readFileSync(0, "utf8"));
  if (rows.length !== 5 || rows.some((r) => !r.override || r.by !== "pipeline-e2e")) { console.error("prod ledger:", rows); process.exit(1); }
  console.error(`prod runs ${rows.length} products, each ledgered with the override and the deployer`);'

# a breaking change in a pull request: caught by the plan, not at the prod deploy
sed -i "s/      { name: 'supplier', type: 'text', description: 'Supplier name' },//; s/version: '1.2.0'/version: '1.3.0'/" products/returns_by_supplier.ts
sed -i "s/by: \['supplier_id', 'supplier', 'week'\]/by: ['supplier_id', 'week']/g" products/returns_by_supplier.ts
git -c user.name=pipeline -c user.email=pipeline@example.com commit -qam "drop supplier"
expect_fail "$repo/ci/plan.sh" prod HEAD~1
grep -q 'refused' plan.md
echo "pipeline-e2e: every step behaved as the pipeline expects" >&2
