#!/usr/bin/env bash
# Pull request and main: the test suite, and its result at this commit recorded in ENV's metadata store for the
# promotion gate (lastmile promote wants the suite passed at the commit the source environment runs).
#   ci/test.sh [ENV]   (default test)      LASTMILE_TEST_COMMAND (default: npm test)
source "$(dirname "$0")/lib.sh"
env="${1:-test}"
sha="$(git -C "$LASTMILE_ROOT" rev-parse HEAD)"
step "test at ${sha}"
status=passed
${LASTMILE_TEST_COMMAND:-npm test} || status=failed
lastmile ci-record --env "$env" --sha "$sha" --status "$status" --detail "${CI_RUN_URL:-ci/test.sh}"
[ "$status" = passed ]
