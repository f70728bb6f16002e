"""Plot helpers shared by the chapters: gridworld values with policy arrows, convergence curves."""

from __future__ import annotations

import numpy as np

from ..tabular.mdp import FiniteMDP

_CELL_COLOURS = {"H": "#1f3b73", "C": "#1f3b73", "G": "#2e8b57", "#": "#555555"}


def plot_values(mdp: FiniteMDP, V, policy=None, ax=None, title: str | None = None, annotate: bool = True,
                cmap: str = "viridis", vmin=None, vmax=None):
    """Draw ``V`` on the MDP's grid as a heat map, with the greedy ``policy`` as arrows (Chapter 1, §1.6).

    ``policy`` may be ``S`` integer actions or an ``(S, A)`` table (arrows show its most likely
    action). Terminal, hole and wall cells are drawn without arrows.
    """
    import matplotlib.pyplot as plt

    if mdp.grid_shape is None:
        raise ValueError(f"{mdp.name} has no grid_shape, so its values cannot be drawn as a grid")
    n_rows, n_cols = mdp.grid_shape
    V = np.asarray(V, dtype=np.float64)
    if V.shape != (mdp.n_states,):
        raise ValueError(f"V must have shape ({mdp.n_states},), got {V.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.7 * n_cols + 1.5, 0.7 * n_rows + 0.6))
    image = ax.imshow(V.reshape(n_rows, n_cols), cmap=cmap, vmin=vmin, vmax=vmax)
    labels = mdp.cell_labels or ("",) * mdp.n_states
    if policy is not None:
        policy = np.asarray(policy)
        actions = policy.argmax(axis=1) if policy.ndim == 2 else policy
    for s in range(mdp.n_states):
        row, col = divmod(s, n_cols)
        label = labels[s]
        if label in _CELL_COLOURS:
            ax.add_patch(plt.Rectangle((col - 0.5, row - 0.5), 1, 1, color=_CELL_COLOURS[label], alpha=0.85))
            ax.text(col, row, label, ha="center", va="center", color="white", fontsize=9, weight="bold")
            continue
        if policy is not None and mdp.action_deltas is not None and not mdp.terminal[s]:
            dr, dc = mdp.action_deltas[int(actions[s])]
            ax.annotate("", xy=(col + 0.3 * dc, row + 0.3 * dr), xytext=(col - 0.3 * dc, row - 0.3 * dr),
                        arrowprops=dict(arrowstyle="->", color="white", lw=1.6))
        if annotate and n_cols <= 12:
            ax.text(col, row + 0.38, f"{V[s]:.2f}", ha="center", va="center", color="white", fontsize=6.5)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title or mdp.name, fontsize=10)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax


def plot_convergence(errors, bound=None, ax=None, label: str = "error", bound_label: str = "bound",
                     xlabel: str = "iteration k", ylabel: str = "sup-norm error"):
    """A log-scale convergence curve, optionally against a theoretical envelope (Chapter 2, §2.4)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    errors = np.asarray(errors, dtype=np.float64)
    ax.semilogy(np.arange(len(errors)), np.maximum(errors, 1e-300), label=label)
    if bound is not None:
        ax.semilogy(np.arange(len(bound)), bound, "--", color="k", lw=1, label=bound_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    return ax
