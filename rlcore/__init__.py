"""rlcore: the library behind *Policy Gradients, Runnable*.

Every algorithm and every numerical check of a derivation in the book lives here; each public
function's docstring names the chapter and section that derive it. The package is layered, each
layer importing only the layers below it (README, "Layout"):

0. ``base``: input validation, seeding, device choice
1. ``tabular`` and ``estimators``: numpy only
2. ``fixtures`` (numpy) and ``envs`` (the only Gymnasium importer)
3. ``distributions``: policy heads, KL, Fisher-vector products, conjugate gradient
4. ``nets``: actor, critic, Q networks; the fast paths below the same interface
5. ``data``: rollouts and the replay buffer
6. ``training``: optimisers, configs, loops, the agent
7. ``algos``: one module per algorithm, never importing another
8. ``checks`` (derivation checks) and ``exercises`` (checkers)
9. ``book``: show, plots, explorers, the student edition

Importing ``rlcore`` (or its tabular layer and estimators) loads neither torch, Gymnasium nor
matplotlib.
"""

import os as _os

_os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # keep pygame quiet in notebooks

from .base.device import pick_device  # noqa: E402
from .base.seeding import seed_everything  # noqa: E402
from .book.show import show  # noqa: E402
from .tabular.mdp import FiniteMDP  # noqa: E402

__version__ = "0.2.0"
__all__ = ["FiniteMDP", "pick_device", "seed_everything", "show"]
