"""The char CNN: small enough to train from scratch on two CPU cores in about two hours.

Five 3x3 conv blocks over a 40x40 ink map (40 -> 20 -> 10 -> 5), then the 5x5 map is flattened
(Chinese characters are told apart by where their components sit, which global pooling would
lose), one hidden layer and a linear head over the charset. About 3.3 M parameters, ~50 M MACs.
"""

from __future__ import annotations

import torch
from torch import nn


def _block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True)]


class CharNet(nn.Module):
    """`(B, 1, S, S)` ink maps -> `(B, num_classes)` logits; S must be divisible by 8."""

    def __init__(self, num_classes: int, input_size: int = 40, width: int = 64,
                 hidden: int = 256, dropout: float = 0.2) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            *_block(1, w // 2), nn.MaxPool2d(2),
            *_block(w // 2, w), *_block(w, w), nn.MaxPool2d(2),
            *_block(w, 2 * w), *_block(2 * w, 2 * w), nn.MaxPool2d(2),
            *_block(2 * w, (5 * w) // 2),
        )
        side = input_size // 8
        self.hidden = nn.Sequential(
            nn.Flatten(), nn.Linear((5 * w) // 2 * side * side, hidden, bias=False),
            nn.BatchNorm1d(hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
        )
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.hidden(self.features(x)))
