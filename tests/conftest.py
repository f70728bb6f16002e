import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from hypothesis import settings  # noqa: E402

# Property tests run on every CI build: keep them quick and reproducible.
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True)
settings.load_profile("ci")
