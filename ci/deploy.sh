#!/usr/bin/env bash
# Merge to main: deploy the products to ENV (default test) — a plan made now, applied product by product.
source "$(dirname "$0")/lib.sh"
env="${1:-test}"
step "deploy to ${env}"
lastmile deploy --env "$env"
