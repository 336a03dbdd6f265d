#!/usr/bin/env bash
# Pull request: the contract diff against the base branch and the plan against ENV, as Markdown for a comment
# (written to plan.md); exit 1 when a breaking change lacks a major version bump.
#   ci/plan.sh [ENV] [BASE]   (default test, origin/main — or HEAD~1 when there is no such branch)
source "$(dirname "$0")/lib.sh"
env="${1:-test}"
base="${2:-origin/main}"
has() { git -C "$LASTMILE_ROOT" rev-parse --verify --quiet "$1^{commit}" >/dev/null; }
has "$base" || base="HEAD~1"
out="${PLAN_MARKDOWN:-plan.md}"
status=0
: > "$out"
if has "$base"; then
  step "diff against ${base}"
  { lastmile diff --from "$base" --markdown || status=1; echo; } >> "$out"
else
  step "no base revision to diff against (the first commit)"
fi
step "plan against ${env}"
lastmile plan --env "$env" --markdown >> "$out" || status=1
cat "$out"
exit "$status"
