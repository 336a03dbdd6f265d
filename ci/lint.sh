#!/usr/bin/env bash
# Pull request: credentials, load-time side effects, workflow determinism. Writes SARIF for code scanning.
source "$(dirname "$0")/lib.sh"
step "lint"
lastmile lint --sarif "${SARIF:-lastmile.sarif}"
