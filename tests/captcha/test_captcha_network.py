"""Inference fusion: folding batch norm into the convolutions keeps the network's outputs."""

from __future__ import annotations

import copy

import pytest

torch = pytest.importorskip("torch")
from jiema_captcha.network import build, fuse_for_inference  # noqa: E402
from jiema_captcha.settings import NetworkSettings  # noqa: E402


@pytest.mark.parametrize("arch", ["ctc", "heads"])
def test_fused_network_gives_the_same_log_probs(arch: str) -> None:
    torch.manual_seed(0)
    settings = NetworkSettings(arch=arch, input_height=16, input_width=48, channels=(4, 8),
                               hidden=8)
    net = build(settings, n_classes=5, n_positions=3)
    for module in net.modules():  # trained-looking norms, not the identity of a fresh one
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
            module.weight.data.uniform_(0.5, 2)
            module.bias.data.uniform_(-1, 1)
    net.eval()
    fused = fuse_for_inference(copy.deepcopy(net))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    x = torch.randn(6, 1, 16, 48)
    with torch.no_grad():
        assert torch.allclose(net(x), fused(x), atol=1e-5)
