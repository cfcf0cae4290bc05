#!/bin/sh
# Runs one of the Python binding's suites against a staged install of the
# library. Called by ctest (see tests.cmake) as `run-tests.sh binding` (the
# package's tests) or `run-tests.sh flask` (the Flask example's), with:
#   PYTHON        the python3 to use (Debian's: it sees python3-flask)
#   LF_STAGE_ENV  the staged install's env.sh (LD_LIBRARY_PATH, ...)
#   LF_SANDBOX    the lf-sandbox binary for the integration tests
# The package is imported from this source tree; the library is found by its
# SONAME through LD_LIBRARY_PATH, as after a real install.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
suite=${1:-}

if [ -z "${PYTHON:-}" ] || ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "python_binding: python3 was not found (PYTHON='${PYTHON:-}'); install python3" >&2
    exit 1
fi
if [ -z "${LF_STAGE_ENV:-}" ] || [ ! -r "$LF_STAGE_ENV" ]; then
    echo "python_binding: staged install env '${LF_STAGE_ENV:-}' is missing (did stage_install run?)" >&2
    exit 1
fi
if [ -z "${LF_SANDBOX:-}" ] || [ ! -x "$LF_SANDBOX" ]; then
    echo "python_binding: LF_SANDBOX '${LF_SANDBOX:-}' is not an executable" >&2
    exit 1
fi

# env.sh holds plain NAME=value lines.
. "$LF_STAGE_ENV"
export LD_LIBRARY_PATH LF_SANDBOX
unset LIGHTFUNNELS_AUTH_LIBRARY
PYTHONPATH=$here
PYTHONDONTWRITEBYTECODE=1
export PYTHONPATH PYTHONDONTWRITEBYTECODE

cd "$here"
"$PYTHON" --version
case "$suite" in
binding) exec "$PYTHON" -m unittest discover -v -s tests -t . ;;
flask) exec "$PYTHON" -m unittest -v examples.test_flask_app ;;
*)
    echo "usage: run-tests.sh binding|flask" >&2
    exit 2
    ;;
esac
