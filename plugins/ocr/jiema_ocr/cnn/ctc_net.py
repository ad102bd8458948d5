"""Line recogniser network: conv features over a height-32 line, one output column per 4 px.

The height is pooled away (32 -> 1) while the width is only halved twice, so each output frame
sees about a quarter of a character; frames are classified over blank + charset, for CTC.
"""

from __future__ import annotations

import torch
from torch import nn


def _block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True)]


class LineCTCNet(nn.Module):
    """`(B, 1, 32, W)` ink maps -> `(B, W // 4, num_classes + 1)` logits; index 0 is blank."""

    def __init__(self, num_classes: int, width: int = 32, hidden: int = 128) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            *_block(1, w), nn.MaxPool2d(2),  # 16 x W/2
            *_block(w, 2 * w), nn.MaxPool2d(2),  # 8 x W/4
            *_block(2 * w, 4 * w), nn.MaxPool2d((2, 1)),  # 4 x W/4
            *_block(4 * w, 4 * w), nn.MaxPool2d((4, 1)),  # 1 x W/4
        )
        self.context = nn.Sequential(
            nn.Conv1d(4 * w, hidden, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv1d(hidden, hidden, 3, padding=1), nn.ReLU(inplace=True),
        )
        self.head = nn.Conv1d(hidden, num_classes + 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x).squeeze(2)  # (B, C, T)
        return self.head(self.context(f)).transpose(1, 2)  # (B, T, K + 1)
