"""Shared benchmark helpers of qtrain.bench.base."""

import pytest
import torch

from qtrain.bench.base import single_thread


def test_single_thread_sets_one_thread_and_restores_the_count_even_on_error():
    before = torch.get_num_threads()
    with single_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError, match="inside"), single_thread():
        assert torch.get_num_threads() == 1
        raise RuntimeError("inside")
    assert torch.get_num_threads() == before


def test_benchmark_packages_share_the_one_helper():
    from qtrain.bench.qpsbgd import common as qpsbgd_common
    from qtrain.bench.subnetwork import common as subnet_common

    assert qpsbgd_common.single_thread is single_thread
    assert not hasattr(subnet_common, "one_thread")
