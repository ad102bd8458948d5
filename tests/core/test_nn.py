"""`jiema.nn`: strided max pooling equals PyTorch's, and the CPU-inference preparation keeps a
network's outputs."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from jiema.nn import StridedMaxPool, for_cpu_inference, swap_max_pools  # noqa: E402


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
