"""Layer 3, distributions and geometry (torch): policy heads, their KLs and entropies, Fisher-vector
products and line search (conjugate gradient, numpy or torch, is in :mod:`rlcore.base.quadratic`)."""

from .categorical import Categorical
from .gaussian import DiagGaussian, TanhGaussian
from .geometry import backtracking_line_search, fisher_vector_product, fisher_vector_products, flat_grad

__all__ = ["Categorical", "DiagGaussian", "TanhGaussian", "backtracking_line_search", "fisher_vector_product",
           "fisher_vector_products", "flat_grad"]
