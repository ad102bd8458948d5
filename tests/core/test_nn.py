"""`jiema.nn`: strided max pooling equals PyTorch's, and the CPU-inference preparation keeps a
network's outputs."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from jiema.nn import (  # noqa: E402
    StridedMaxPool,
    for_cpu_inference,
    quantize_linears,
    swap_max_pools,
)


@pytest.mark.parametrize("kernel", [(2, 2), (2, 1), (1, 2), (3, 3)])
@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (1, 4, 7, 9), (3, 1, 5, 6)])
def test_strided_max_pool_equals_max_pool2d(kernel: tuple[int, int],
                                            shape: tuple[int, ...]) -> None:
    x = torch.randn(*shape)
    assert torch.equal(StridedMaxPool(*kernel)(x), torch.nn.MaxPool2d(kernel)(x))


def test_only_pools_with_kernel_equal_to_stride_are_swapped() -> None:
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.MaxPool2d(2),
        torch.nn.Sequential(torch.nn.MaxPool2d((2, 1))),
        torch.nn.MaxPool2d(3, stride=1, padding=1),  # overlapping windows: kept
    )
    swap_max_pools(net)
    assert isinstance(net[1], StridedMaxPool) and isinstance(net[2][0], StridedMaxPool)
    assert isinstance(net[3], torch.nn.MaxPool2d)


def test_cpu_inference_preparation_keeps_the_outputs() -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.MaxPool2d((2, 1)),
        torch.nn.Flatten(), torch.nn.Linear(16 * 5 * 10, 6), torch.nn.BatchNorm1d(6),
        torch.nn.ReLU(), torch.nn.Linear(6, 3),
    )
    net.train()
    net(torch.randn(16, 1, 20, 20))  # running statistics that are not the identity
    net.eval()
    x = torch.randn(4, 1, 20, 20)
    with torch.no_grad():
        ref = net(x)
        out = for_cpu_inference(net)(x)
    assert not net.training
    assert net[0].weight.is_contiguous(memory_format=torch.channels_last)
    kinds = [type(m) for m in net]
    assert torch.nn.BatchNorm2d not in kinds and torch.nn.BatchNorm1d not in kinds
    assert kinds.count(torch.nn.Identity) == 2
    assert torch.allclose(ref, out, atol=1e-5)


def test_int8_linears_keep_the_outputs_close_and_the_convolutions_as_they_are() -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(),
                              torch.nn.Linear(4 * 6 * 6, 32), torch.nn.ReLU(),
                              torch.nn.Linear(32, 500)).eval()
    x = torch.randn(6, 1, 8, 8)
    with torch.inference_mode():
        before = net(x)
        quick = quantize_linears(net)
        after = quick(x)
    if torch.backends.quantized.engine == "none":
        pytest.skip("this PyTorch build has no quantised CPU engine")
    assert isinstance(quick[0], torch.nn.Conv2d)
    assert not any(type(m) is torch.nn.Linear for m in quick.modules())
    assert not torch.equal(before, after)  # int8 arithmetic, not the float layers
    spread = float(before.std())
    assert float((after - before).abs().mean()) < 0.03 * spread
    assert float((after - before).abs().max()) < 0.15 * spread


def test_a_module_in_bfloat16_keeps_its_outputs_to_about_one_percent(monkeypatch) -> None:
    import jiema.nn as jnn

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(),
                              torch.nn.Conv2d(8, 4, 3, padding=1)).eval()
    x = torch.randn(2, 1, 12, 12)
    with torch.inference_mode():
        want = net(x)
        fast = jnn.InBFloat16(net)
        got = fast(x)
    assert got.dtype == torch.float32 and got.shape == want.shape
    assert float((got - want).abs().max()) <= 0.02 * float(want.abs().max())
    assert float((got - want).abs().max()) > 0.0  # it did run in bfloat16
    monkeypatch.setattr(jnn, "native_bfloat16", lambda: False)
    plain = torch.nn.Linear(2, 2)
    assert jnn.in_bfloat16(plain) is plain  # emulated bfloat16 is slower: left as it is
    monkeypatch.setattr(jnn, "native_bfloat16", lambda: True)
    assert isinstance(jnn.in_bfloat16(torch.nn.Linear(2, 2)), jnn.InBFloat16)


@pytest.mark.parametrize("dims", [1, 2])
def test_pointwise_conv_as_matmul_gives_the_same_outputs(dims: int) -> None:
    from jiema.nn import PointwiseAsMatmul

    torch.manual_seed(0)
    conv = (torch.nn.Conv1d(6, 11, 1) if dims == 1 else torch.nn.Conv2d(6, 11, 1)).eval()
    x = torch.randn(3, 6, 9) if dims == 1 else torch.randn(3, 6, 2, 9)
    with torch.inference_mode():
        want, got = conv(x), PointwiseAsMatmul(conv)(x)
        assert got.shape == want.shape
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
        if dims == 2:  # a CTC head's (B, K, 1, T) -> (B, T, K): rows come out contiguous
            rows = PointwiseAsMatmul(conv)(torch.randn(3, 6, 1, 9)).squeeze(2).transpose(1, 2)
            assert rows.is_contiguous()
        no_bias = torch.nn.Conv1d(6, 11, 1, bias=False) if dims == 1 else torch.nn.Conv2d(
            6, 11, 1, bias=False)
        torch.testing.assert_close(PointwiseAsMatmul(no_bias)(x), no_bias(x), rtol=1e-5,
                                   atol=1e-5)


def test_pointwise_as_matmul_refuses_a_wider_kernel() -> None:
    from jiema.nn import PointwiseAsLinear, PointwiseAsMatmul

    with pytest.raises(ValueError, match="1x1"):
        PointwiseAsMatmul(torch.nn.Conv2d(4, 4, 3))
    with pytest.raises(ValueError, match="PointwiseAsLinear needs a 1x1"):
        PointwiseAsLinear(torch.nn.Conv2d(4, 4, 1, groups=2))


@pytest.mark.parametrize("bias", [True, False])
def test_pointwise_conv_as_linear_gives_the_same_outputs_and_quantises(bias: bool) -> None:
    from jiema.nn import PointwiseAsLinear, quantize_linears

    torch.manual_seed(0)
    conv = torch.nn.Conv2d(16, 40, 1, bias=bias).eval()
    x = torch.randn(2, 16, 1, 30)
    with torch.inference_mode():
        want, got = conv(x), PointwiseAsLinear(conv)(x)
        assert got.shape == want.shape
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
        quick = quantize_linears(PointwiseAsLinear(conv))
        if torch.backends.quantized.engine != "none":
            assert type(quick.linear) is not torch.nn.Linear  # int8, not the float layer
        near = quick(x)
        assert near.shape == want.shape
        # int8 weights: close, and the largest output per position the same almost everywhere
        assert float((near - want).abs().max()) < 0.05 * float(want.abs().max())
        assert float((near.argmax(1) == want.argmax(1)).float().mean()) > 0.9
