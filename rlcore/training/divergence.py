"""Stopping a run that has diverged, with a message saying what to try (Chapter 7, §7.5)."""

from __future__ import annotations

import math

import torch

from .optim import flat_view


class TrainingDiverged(RuntimeError):
    """A loss or a parameter became NaN/inf, or a loss exceeded ``max_loss`` (Chapter 7, §7.5)."""


def check_losses(stats: dict, steps: int, max_loss: float) -> None:
    """Raise :class:`TrainingDiverged` if a loss in ``stats`` is not finite or above ``max_loss`` (Chapter 7, §7.5)."""
    for key, value in stats.items():
        if "loss" in key and not (math.isfinite(value) and abs(value) <= max_loss):
            raise TrainingDiverged(f"{key} = {value} after {steps} steps: training diverged "
                                   "(try a smaller lr, or check the environment's reward scale)")


def check_finite(module: torch.nn.Module, stats: dict, steps: int, max_loss: float) -> None:
    """:func:`check_losses`, and raise if a parameter of ``module`` is not finite (Chapter 7, §7.5)."""
    check_losses(stats, steps, max_loss)
    params = list(module.parameters())
    flat = flat_view(params)  # the fast path keeps the parameters in one buffer: one check for all
    if flat is not None and bool(torch.isfinite(flat).all()):
        return
    for name, p in module.named_parameters():
        if not torch.isfinite(p).all():
            raise TrainingDiverged(f"parameter {name} became NaN/inf after {steps} steps "
                                   "(try a smaller lr or max_grad_norm)")
