"""rlcore: the library behind *Policy Gradients, Runnable*.

Every algorithm and every numerical check of a derivation in the book lives here; each
public function's docstring names the chapter that derives it.
"""

import os as _os

_os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # keep pygame quiet in notebooks

from . import dp, exact, mdp, returns, stats  # noqa: E402
from .device import pick_device  # noqa: E402
from .mdp import FiniteMDP  # noqa: E402
from .seeding import seed_everything  # noqa: E402
from .show import show  # noqa: E402

__version__ = "0.1.0"
__all__ = ["FiniteMDP", "dp", "exact", "mdp", "pick_device", "returns", "seed_everything", "show", "stats"]
