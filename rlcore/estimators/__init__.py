"""Layer 1, the estimators (numpy only): returns, TD errors, n-step returns, GAE, Monte Carlo statistics."""

from . import advantages, baselines, returns, stats

__all__ = ["advantages", "baselines", "returns", "stats"]
