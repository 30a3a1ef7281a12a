"""k-bit fixed-point layers: codes, the straight-through gradient, mixed precision."""

import pytest
import torch

from qtrain.nn import QuantizedLinear, QuantizedMLP, average_bits, format_bits


@pytest.mark.parametrize("bits", [1, 2, 3])
def test_codes_and_levels(bits):
    layer = QuantizedLinear(4, 3, bits=bits)
    levels = layer.levels()
    assert len(levels) == 2**bits
    assert levels[0] == pytest.approx(-0.5) and levels[-1] == pytest.approx(0.5)  # r = 1/sqrt(4)
    w = layer.effective_weight().detach().double()
    assert bool(torch.isclose(w[..., None], levels, atol=1e-6).any(-1).all())
    codes = torch.randint(0, 2**bits, (3, 4))
    layer.set_codes(codes)
    assert torch.equal(layer.codes(), codes)
    bits_ = layer.code_bits()
    assert torch.equal((bits_ << torch.arange(bits)).sum(-1), codes)
    assert torch.allclose(layer.effective_weight().double(), levels[codes], atol=1e-6)


def test_straight_through_gradient_inside_the_range_only():
    layer = QuantizedLinear(2, 1, bits=2, scale=1.0, offset=1.5)  # levels -1.5, -0.5, 0.5, 1.5
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.2, 3.0]]))
    x = torch.tensor([[1.0, 1.0]])
    y = layer(x)
    assert float(y.detach()) == pytest.approx(0.5 + 1.5)
    y.sum().backward()
    assert layer.weight.grad.tolist() == [[1.0, 0.0]]  # clipped outside [w_min, w_max]


def test_mixed_precision_average_bits():
    model = QuantizedMLP([10, 10, 1], bits=[1, 2])
    assert average_bits(model) == pytest.approx((100 + 20) / 110)
    assert format_bits(model) == "1.1 bits"
    full = QuantizedMLP([3, 2, 1], bits=2, quantize=False)
    x = torch.randn(5, 3)
    assert torch.allclose(full(x), full[2](full[1](x @ full[0].weight.T)))


def test_bad_bit_widths():
    with pytest.raises(ValueError, match="1..8"):
        QuantizedLinear(2, 2, bits=0)
    with pytest.raises(ValueError, match="1..8"):
        QuantizedLinear(2, 2, bits=9)
    with pytest.raises(ValueError, match=r"bits\[1\]"):
        QuantizedMLP([2, 2, 1], bits=[1, 12])
    with pytest.raises(ValueError, match="one width per layer"):
        QuantizedMLP([2, 2, 1], bits=[1])
    with pytest.raises(ValueError, match="codes must lie"):
        QuantizedLinear(2, 1, bits=1).set_codes(torch.tensor([[0, 2]]))
