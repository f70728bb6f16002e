#!/usr/bin/env bash
# Run every test: ruff, the unit tests of rlcore, and every chapter executed by nbval.
# Extra arguments go to pytest (for example: bash scripts/test.sh -k occupancy).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_NUM_THREADS=1 SDL_VIDEODRIVER=dummy
.venv/bin/ruff check .
.venv/bin/python -m pytest -n 2 --dist loadscope --nbval-lax --durations=10 tests book "$@"
