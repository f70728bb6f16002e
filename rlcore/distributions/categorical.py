"""The softmax policy over ``n`` discrete actions, as functions of the logits (Chapter 5; KL in Chapter 10)."""

from __future__ import annotations

import torch


class Categorical:
    """``pi(a|s) = softmax(logits)_a``: sampling, log-probabilities, entropy, KL and mode (Chapter 5, §5.1)."""

    @staticmethod
    def sample(logits: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """One action per row by inverse-CDF sampling (Chapter 5, §5.1)."""
        cdf = torch.softmax(logits, -1).cumsum_(-1)  # the first action whose CDF exceeds a uniform number
        u = torch.rand(cdf.shape[:-1] + (1,), generator=generator, device=logits.device)
        return torch.searchsorted(cdf, u * cdf[..., -1:]).squeeze(-1).clamp_(max=logits.shape[-1] - 1)

    @staticmethod
    def log_prob(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """``log pi(a|s) = logits_a - logsumexp(logits)`` (Chapter 5, §5.1)."""
        return torch.log_softmax(logits, -1).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)

    @staticmethod
    def entropy(logits: torch.Tensor) -> torch.Tensor:
        """``H = -sum_a pi(a) log pi(a)`` (Chapter 10, §10.6, eq. (eq-entropy))."""
        log_p = torch.log_softmax(logits, -1)
        return -(log_p.exp() * log_p).sum(-1)

    @staticmethod
    def kl(logits_p: torch.Tensor, logits_q: torch.Tensor) -> torch.Tensor:
        """``KL(p || q) = sum_a p(a) (log p(a) - log q(a))`` per row (Chapter 10, §10.3, eq. (eq-kl))."""
        log_p, log_q = torch.log_softmax(logits_p, -1), torch.log_softmax(logits_q, -1)
        return (log_p.exp() * (log_p - log_q)).sum(-1)

    @staticmethod
    def mode(logits: torch.Tensor) -> torch.Tensor:
        """The most likely action (Chapter 5, §5.1)."""
        return logits.argmax(-1)
