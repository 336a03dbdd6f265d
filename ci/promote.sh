#!/usr/bin/env bash
# Release tag or manual approval: promote what FROM runs to TO, through the gates.
#   ci/promote.sh [FROM] [TO]   (default test prod)   PROMOTE_RUNS (default 3)   PROMOTE_OVERRIDE (a reason: promote past failed gates)
source "$(dirname "$0")/lib.sh"
from="${1:-test}"
to="${2:-prod}"
step "promote ${from} → ${to}"
if [ -n "${PROMOTE_OVERRIDE:-}" ]; then
  lastmile promote --from "$from" --to "$to" --runs "${PROMOTE_RUNS:-3}" --override "$PROMOTE_OVERRIDE"
else
  lastmile promote --from "$from" --to "$to" --runs "${PROMOTE_RUNS:-3}"
fi
