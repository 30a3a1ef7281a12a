import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Statevector runs on small registers are faster on one thread on the shared 2-core machine."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
