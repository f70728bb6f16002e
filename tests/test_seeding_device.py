"""Seeding makes runs repeat; device choice prefers the CPU for small work and is overridable."""

import numpy as np
import pytest
import torch

from rlcore import pick_device, seed_everything
from rlcore.base.device import GPU_WORTHWHILE_FLOPS


def test_same_seed_same_numbers():
    rng1, gen1 = seed_everything(7)
    a = (rng1.random(3), torch.rand(3, generator=gen1), np.random.rand(), torch.rand(1))
    rng2, gen2 = seed_everything(7)
    b = (rng2.random(3), torch.rand(3, generator=gen2), np.random.rand(), torch.rand(1))
    for x, y in zip(a, b):
        assert np.array_equal(np.asarray(x), np.asarray(y))
    rng3, _ = seed_everything(8)
    assert not np.array_equal(rng3.random(3), a[0])


@pytest.mark.parametrize("seed", [-1, 1.5, "0"])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        seed_everything(seed)


def test_seeding_sets_one_torch_thread_unless_told_otherwise():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        seed_everything(0)
        assert torch.get_num_threads() == 1  # the book's numbers are computed on one thread
        torch.set_num_threads(2)
        seed_everything(0, threads=None)
        assert torch.get_num_threads() == 2
        with pytest.raises(ValueError, match="threads must be a positive integer or None, got 0"):
            seed_everything(0, threads=0)
    finally:
        torch.set_num_threads(before)


def test_small_work_stays_on_cpu():
    assert pick_device().type == "cpu"
    assert pick_device(work_flops=1e3).type == "cpu"
    assert pick_device("cpu").type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without CUDA")
def test_cuda_request_without_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        pick_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_large_work_goes_to_cuda_when_present():
    assert pick_device(work_flops=10 * GPU_WORTHWHILE_FLOPS).type == "cuda"
    assert pick_device("cuda").type == "cuda"
    assert pick_device(work_flops=10 * GPU_WORTHWHILE_FLOPS, device="cpu").type == "cpu"
