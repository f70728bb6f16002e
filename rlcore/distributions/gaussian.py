"""Gaussian policies for continuous actions: diagonal and tanh-squashed (Chapter 5; KL in Chapter 10; SAC in 17)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2 * math.pi)


class DiagGaussian:
    """``pi(a|s) = N(mean(s), diag(exp(log_std))^2)`` (Chapter 5, §5.1)."""

    @staticmethod
    def sample(mean, log_std, generator: torch.Generator | None = None) -> torch.Tensor:
        """``a = mean + std * noise``, ``noise ~ N(0, I)`` (Chapter 5, §5.1)."""
        noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        return mean + log_std.exp() * noise

    @staticmethod
    def log_prob(mean, log_std, actions) -> torch.Tensor:
        """``log pi(a|s) = -sum_i [z_i^2/2 + log std_i + log(2 pi)/2]``, ``z = (a - mean)/std`` (Chapter 5, §5.1)."""
        z = (actions - mean) * torch.exp(-log_std)
        return -(0.5 * z.square() + log_std + 0.5 * LOG_2PI).sum(-1)

    @staticmethod
    def entropy(mean, log_std) -> torch.Tensor:
        """``H = sum_i [log std_i + (1 + log 2 pi) / 2]``: differential entropy, which can be negative
        (Chapter 10, §10.6, eq. (eq-gaussian-entropy))."""
        return (log_std + 0.5 * (1.0 + LOG_2PI)).expand(mean.shape).sum(-1)

    @staticmethod
    def kl(mean_p, log_std_p, mean_q, log_std_q) -> torch.Tensor:
        """``KL(p || q) = sum_i [log(s_q/s_p) + (s_p^2 + (m_p - m_q)^2) / (2 s_q^2) - 1/2]``
        (Chapter 10, §10.3, eq. (eq-gaussian-kl-1d))."""
        var_p, var_q = (2 * log_std_p).exp(), (2 * log_std_q).exp()
        return (log_std_q - log_std_p + (var_p + (mean_p - mean_q).square()) / (2 * var_q) - 0.5).sum(-1)

    @staticmethod
    def mode(mean, log_std) -> torch.Tensor:
        """The mean, which is also the most likely action (Chapter 5, §5.1)."""
        return mean


class TanhGaussian:
    """``a = tanh(u)``, ``u ~ N(mean, diag(std^2))``: actions in ``(-1, 1)`` (Chapter 17).

    By the change of variables, ``log pi(a) = log N(u) - sum_i log(1 - tanh(u_i)^2)``, with
    ``log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u))`` for numerical stability.
    """

    @staticmethod
    def sample(mean, log_std, generator: torch.Generator | None = None) -> torch.Tensor:
        """``tanh(mean + std * noise)`` (Chapter 17)."""
        return torch.tanh(DiagGaussian.sample(mean, log_std, generator))

    @staticmethod
    def log_prob_pre_tanh(mean, log_std, u) -> torch.Tensor:
        """``log pi(tanh(u))`` from the pre-squash sample ``u`` (exact, no ``atanh``) (Chapter 17)."""
        log_det = 2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))  # log(1 - tanh(u)^2)
        return DiagGaussian.log_prob(mean, log_std, u) - log_det.sum(-1)

    @staticmethod
    def log_prob(mean, log_std, actions, eps: float = 1e-6) -> torch.Tensor:
        """``log pi(a)`` for actions in ``(-1, 1)``; ``a`` is clipped ``eps`` inside the interval (Chapter 17)."""
        u = torch.atanh(actions.clamp(-1 + eps, 1 - eps))
        return TanhGaussian.log_prob_pre_tanh(mean, log_std, u)

    @staticmethod
    def mode(mean, log_std) -> torch.Tensor:
        """``tanh(mean)``, the squashed mean used for greedy evaluation (Chapter 17)."""
        return torch.tanh(mean)
