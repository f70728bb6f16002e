#!/usr/bin/env bash
# Benchmark rlcore against Stable-Baselines3 on CartPole-v1 (see bench/README.md).
# Extra arguments go to bench/cartpole.py (for example: bash bench/run.sh --seeds 5 --protocols a);
# bash bench/run.sh --compare-update runs bench/compare_update.py instead (one update, both libraries);
# bash bench/run.sh --trpo [--seeds N --protocols a,b] runs bench/trpo.py (TRPO against sb3-contrib).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/pip install --quiet -r bench/requirements.txt
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 SDL_VIDEODRIVER=dummy
if [ "${1:-}" = "--compare-update" ]; then
  .venv/bin/python bench/compare_update.py
elif [ "${1:-}" = "--trpo" ]; then
  shift
  .venv/bin/python bench/trpo.py "$@"
else
  .venv/bin/python bench/cartpole.py "$@"
fi
