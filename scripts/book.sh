#!/usr/bin/env bash
# Build the book into _build/html, executing every chapter; any warning fails the build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_NUM_THREADS=1 SDL_VIDEODRIVER=dummy
.venv/bin/python scripts/nbcache.py  # a chapter executed by the tests is not executed again
.venv/bin/jupyter-book build . -W -n --keep-going
echo "The book is in _build/html/index.html"
