import pytest
import torch


@pytest.fixture(autouse=True)
def _single_torch_thread():
    # Small tensors on a 2-core machine shared with other jobs: torch's intra-op threads made
    # these tests about 4x slower, so they run single-threaded (numba keeps its own threads).
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
