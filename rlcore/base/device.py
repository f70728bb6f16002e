"""Choosing where tensors live: CPU for small networks, CUDA when present and worth it."""

from __future__ import annotations

#: Below this many floating-point operations per forward pass a GPU loses to kernel-launch
#: and transfer overhead; the small policy networks of the book sit far below it.
GPU_WORTHWHILE_FLOPS = 5e7


def pick_device(device: str | None = None, work_flops: float = 0.0):
    """Return a ``torch.device`` (Chapter 7, §7.5).

    ``device`` overrides everything (``"cpu"``, ``"cuda"``, ``"cuda:1"``). Otherwise CUDA is
    chosen only when it is available *and* ``work_flops`` (per forward pass of a batch) exceeds
    :data:`GPU_WORTHWHILE_FLOPS`.
    """
    import torch

    if device is not None:
        dev = torch.device(device)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={device!r} was asked for, but CUDA is not available on this machine")
        return dev
    if torch.cuda.is_available() and work_flops > GPU_WORTHWHILE_FLOPS:
        return torch.device("cuda")
    return torch.device("cpu")
