"""Layer 2, environments: the only part of rlcore that imports Gymnasium.

Vector environments for the deep-RL chapters (:mod:`.vector`), the toy-text environments as finite
MDPs (:mod:`.toytext`), and the book's own environments, registered with Gymnasium on import:
``rlcore/LQR1D-v0`` (:mod:`.lqr`), ``rlcore/TokenMDP-v0`` (:mod:`.token`) and
``rlcore/MaximizationBias-v0`` (:mod:`.maximization_bias`).
"""

import gymnasium as _gym

from .lqr import LQR1D, lqr_return
from .maximization_bias import MaximizationBias
from .token import TokenMDP
from .toytext import from_toytext, run_episodes, run_trajectories
from .vector import check_vec_env, make_vec_env, space_dims

for _id, _entry, _steps in (("rlcore/LQR1D-v0", LQR1D, 200), ("rlcore/TokenMDP-v0", TokenMDP, None),
                            ("rlcore/MaximizationBias-v0", MaximizationBias, None)):
    if _id not in _gym.registry:
        _gym.register(_id, entry_point=_entry, max_episode_steps=_steps)

__all__ = ["LQR1D", "MaximizationBias", "TokenMDP", "check_vec_env", "from_toytext", "lqr_return", "make_vec_env",
           "run_episodes", "run_trajectories", "space_dims"]
