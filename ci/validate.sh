#!/usr/bin/env bash
# Pull request: every product module and the config valid (offline: no warehouse needed).
source "$(dirname "$0")/lib.sh"
step "validate"
lastmile validate --offline
