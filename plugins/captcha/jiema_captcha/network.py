"""The two reader networks (PyTorch; imported only when a model is trained or loaded)."""

from __future__ import annotations

import torch
from torch import nn

from .settings import NetworkSettings


def _block(c_in: int, c_out: int, pool: tuple[int, int]) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(pool),
    )


def conv_stack(settings: NetworkSettings, pools: list[tuple[int, int]]) -> nn.Sequential:
    chans = (1, *settings.channels)
    return nn.Sequential(
        *(_block(chans[i], chans[i + 1], pools[i]) for i in range(len(settings.channels)))
    )


def ctc_pools(settings: NetworkSettings) -> list[tuple[int, int]]:
    """Halve both sides twice, then only the height: the width stays a sequence of columns."""
    return [(2, 2) if i < 2 else (2, 1) for i in range(len(settings.channels))]


class HeadsNet(nn.Module):
    """The seed's baseline: conv stack, flatten, N independent linear+softmax heads."""

    def __init__(self, settings: NetworkSettings, n_classes: int, n_positions: int) -> None:
        super().__init__()
        self.features = conv_stack(settings, [(2, 2)] * len(settings.channels))
        scale = 2 ** len(settings.channels)
        flat = (
            settings.channels[-1]
            * (settings.input_height // scale)
            * (settings.input_width // scale)
        )
        self.heads = nn.ModuleList(
            nn.Sequential(
                nn.Dropout(settings.dropout),
                nn.Linear(flat, settings.hidden),
                nn.ReLU(inplace=True),
                nn.Linear(settings.hidden, n_classes),
            )
            for _ in range(n_positions)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) -> log-probabilities (B, N, classes)."""
        f = self.features(x).flatten(1)
        return torch.stack([h(f) for h in self.heads], dim=1).log_softmax(-1)


class CTCNet(nn.Module):
    """Conv features -> one vector per column -> BiGRU -> per-frame log-probs (blank = 0)."""

    def __init__(self, settings: NetworkSettings, n_classes: int) -> None:
        super().__init__()
        self.features = conv_stack(settings, ctc_pools(settings))
        rows = settings.input_height // 2 ** len(settings.channels)
        self.project = nn.Linear(settings.channels[-1] * rows, settings.hidden)
        self.rnn = nn.GRU(settings.hidden, settings.hidden, batch_first=True, bidirectional=True)
        self.drop = nn.Dropout(settings.dropout)
        self.out = nn.Linear(2 * settings.hidden, n_classes + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) -> log-probabilities (B, T, classes + 1), T = W / 4, blank at 0."""
        f = self.features(x)  # B, C, h, T
        b, c, h, t = f.shape
        f = f.permute(0, 3, 1, 2).reshape(b, t, c * h)
        f = torch.relu(self.project(f))
        f, _ = self.rnn(f)
        return self.out(self.drop(f)).log_softmax(-1)


def fuse_for_inference(net: nn.Module) -> nn.Module:
    """The network prepared for CPU reading by `jiema.nn.for_cpu_inference` (eval mode): batch
    norm folded into the convolutions (about twice the images/s), max pooling as strided maxima
    (PyTorch's CPU pooling took 40% of a batch), channels-last weights. Same outputs up to
    float rounding."""
    from jiema.nn import for_cpu_inference

    return for_cpu_inference(net)


def frames(settings: NetworkSettings) -> int:
    return settings.input_width // 4


def build(settings: NetworkSettings, n_classes: int, n_positions: int) -> nn.Module:
    if settings.arch == "heads":
        return HeadsNet(settings, n_classes, n_positions)
    return CTCNet(settings, n_classes)
