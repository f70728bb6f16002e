"""Layer 2, environments: the only part of rlcore that imports Gymnasium.

Vector environments for the deep-RL chapters (:mod:`.vector`) and the toy-text environments
as finite MDPs (:mod:`.toytext`).
"""

from .toytext import from_toytext
from .vector import check_vec_env, make_vec_env, space_dims

__all__ = ["check_vec_env", "from_toytext", "make_vec_env", "space_dims"]
