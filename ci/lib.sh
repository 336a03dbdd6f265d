# Shared by the ci/ scripts: how to call lastmile, and on which project.
#   LASTMILE       the command (default: npx lastmile, from the project's own node_modules)
#   LASTMILE_ROOT  the project folder (default: the current directory)
set -euo pipefail
LASTMILE="${LASTMILE:-npx lastmile}"
LASTMILE_ROOT="${LASTMILE_ROOT:-.}"
lastmile() {
  # shellcheck disable=SC2086
  $LASTMILE "$@" --root "$LASTMILE_ROOT"
}
step() {
  printf '\n== %s\n' "$*" >&2
}
