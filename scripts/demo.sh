#!/usr/bin/env bash
# The main job: the digits example through effc.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/python -m effc.demo "$@"
