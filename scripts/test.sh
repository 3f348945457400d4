#!/usr/bin/env bash
# The test command (CI runs exactly this through .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/ruff check effc tests bench examples
exec .venv/bin/python -m pytest -q "$@"
