"""Tile coding: binary features of a continuous state for linear function approximation (Chapter 8, §8.6).

``tilings`` grids of ``tiles`` cells per dimension cover the box ``[low, high]``, each grid shifted by a
different fraction of a cell (asymmetric offsets, Sutton and Barto §9.5.4); a state activates exactly one cell
of each grid, so its feature vector has ``tilings`` ones. Nearby states share most of their cells: that is
the generalisation. numpy only.
"""

from __future__ import annotations

import numpy as np

from ..base import validate


class TileCoder:
    """Active tile indices of a state in ``[low, high]`` (Chapter 8, §8.6); ``n_features`` in all."""

    def __init__(self, low, high, tilings: int = 8, tiles: int = 8):
        self.low = validate.array(low, "low", ndim=1)
        self.high = validate.array(high, "high", shape=self.low.shape)
        if np.any(self.high <= self.low):
            raise ValueError(f"high must exceed low in every dimension, got low={self.low}, high={self.high}")
        self.tilings = validate.integer(tilings, "tilings", low=1)
        self.tiles = validate.integer(tiles, "tiles", low=1)
        d = len(self.low)
        # tiling k is shifted by k (1, 3, 5, ...) / tilings of a cell: no two tilings move together
        self.offsets = (np.arange(self.tilings)[:, None] * (2 * np.arange(d) + 1)[None, :] / self.tilings) % 1.0
        self.cells = (self.tiles + 1) ** d  # one extra cell per dimension holds the shifted edge
        self.strides = (self.tiles + 1) ** np.arange(d)
        self.n_features = self.tilings * self.cells
        self.base = np.arange(self.tilings) * self.cells  # the first index of each tiling's block

    def __call__(self, state) -> np.ndarray:
        """The ``tilings`` active feature indices of ``state`` (clipped into the box) (Chapter 8, §8.6)."""
        x = (np.asarray(state, dtype=float) - self.low) / (self.high - self.low) * self.tiles
        if x.shape != self.low.shape:
            raise ValueError(f"state must have shape {self.low.shape}, got {np.shape(state)}")
        cell = np.minimum(np.maximum((x + self.offsets).astype(int), 0), self.tiles)  # = floor, once clipped at 0
        return self.base + cell @ self.strides
