"""Line recogniser network: conv features over a height-32 line, one output column per 4 px.

The height is pooled away (32 -> 1) while the width is only halved twice, so each output frame
sees about a quarter of a character; frames are classified over blank + charset, for CTC.
"""

from __future__ import annotations

from typing import Any

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


class CharNetCTC(nn.Module):
    """The char CNN run along a whole line, for CTC: `(B, 1, S, W)` ink maps (S = the char
    CNN's input size) -> `(B, W // 4, num_classes + 1)` logits, index 0 blank.

    Same layers as `CharNet`, so it starts from a trained char CNN (`from_charnet`) and CTC only
    has to teach it where characters begin and end: the last pooling keeps the width (4 px
    frames), and the flattened 5x5 map of the classifier becomes a 5x5 convolution dilated 2x
    along the line, which sees the same 40-pixel window as the classifier did."""

    def __init__(self, num_classes: int, input_size: int = 40, width: int = 64,
                 hidden: int = 256, dropout: float = 0.1) -> None:
        super().__init__()
        from .net import CharNet

        base = CharNet(num_classes, input_size=input_size, width=width, hidden=hidden)
        layers = list(base.features)
        last_pool = max(i for i, m in enumerate(layers) if isinstance(m, nn.MaxPool2d))
        layers[last_pool] = nn.MaxPool2d((2, 1))
        self.features = nn.Sequential(*layers)
        side = input_size // 8
        self.hidden = nn.Sequential(
            nn.Conv2d((5 * width) // 2, hidden, side, padding=(0, side - 1), dilation=(1, 2),
                      bias=False),
            nn.BatchNorm2d(hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
        )
        self.head = nn.Conv2d(hidden, num_classes + 1, 1)

    @classmethod
    def from_charnet(cls, net: Any, blank_bias: float = 2.0) -> CharNetCTC:
        """A line model with `net`'s (a `CharNet`'s) weights; blank starts slightly favoured."""
        lin = net.hidden[1]
        head = net.head
        hidden, flat = lin.weight.shape
        width = (2 * net.features[0].out_channels)
        side = round((flat / ((5 * width) // 2)) ** 0.5)
        out = cls(head.out_features, input_size=8 * side, width=width, hidden=hidden)
        out.features.load_state_dict(net.features.state_dict())
        out.hidden[1].load_state_dict(net.hidden[2].state_dict())
        conv: Any = out.hidden[0]
        new_head: Any = out.head
        with torch.no_grad():
            conv.weight.copy_(lin.weight.view(hidden, -1, side, side))
            new_head.weight.zero_()
            new_head.weight[1:, :, 0, 0] = head.weight
            new_head.bias[1:] = head.bias
            new_head.bias[0] = head.bias.max() + blank_bias
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.hidden(self.features(x))  # (B, H, 1, W / 4)
        return self.head(f).squeeze(2).transpose(1, 2)
