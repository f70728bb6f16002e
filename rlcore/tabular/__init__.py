"""Layer 1, the tabular layer (numpy only): finite MDPs, exact evaluation, dynamic programming, Monte Carlo.

Chapters 1-2 today; later tabular TD, exact softmax policy gradients, improvement bounds, soft DP.
"""

from . import builders, dp, exact, mdp, montecarlo
from .mdp import FiniteMDP

__all__ = ["FiniteMDP", "builders", "dp", "exact", "mdp", "montecarlo"]
