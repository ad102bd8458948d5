"""The torch network: character embeddings (plus, optionally, embeddings of each character's
bigram with the next one, projected to the same width), gated residual dilated 1-D convolutions
with same padding, a 1x1 output convolution and log-softmax over S/B/M/E.

Imported only inside functions (it imports torch at the top); use `import_network()`.
Padded positions are zeroed after every layer, so a sequence scores the same alone or padded in a
batch.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .settings import FCNSettings


class GatedConvTagger(nn.Module):
    def __init__(self, vocab_size: int, settings: FCNSettings, bigram_size: int = 0) -> None:
        super().__init__()
        if settings.kernel % 2 != 1:
            raise ValueError(f"kernel must be odd for same padding, got {settings.kernel}")
        d, k = settings.dim, settings.kernel
        self.embed = nn.Embedding(vocab_size, d, padding_idx=0)
        self.bigram_embed: nn.Embedding | None = None
        if settings.bigram_dim:
            if bigram_size < 2:
                raise ValueError("bigram_dim > 0 needs a bigram vocabulary")
            self.bigram_embed = nn.Embedding(bigram_size, settings.bigram_dim, padding_idx=0)
            self.bigram_proj = nn.Linear(settings.bigram_dim, d, bias=False)
        dil = [settings.dilations[i % len(settings.dilations)] for i in range(settings.layers)]
        self.convs = nn.ModuleList(
            nn.Conv1d(d, 2 * d, k, padding=r * (k - 1) // 2, dilation=r) for r in dil
        )
        self.drop = nn.Dropout(settings.dropout)
        self.out = nn.Conv1d(d, 4, 1)
        self.scale = math.sqrt(0.5)

    def forward(
        self, ids: torch.Tensor, mask: torch.Tensor | None = None,
        bigrams: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """`ids` and `bigrams` (B, T) int64, `mask` (B, T) bool or None -> (B, T, 4) log-probs."""
        h = self.embed(ids)
        if self.bigram_embed is not None:
            if bigrams is None:
                raise ValueError("this network needs the bigram ids")
            h = h + self.bigram_proj(self.bigram_embed(bigrams))
        h = h.transpose(1, 2).contiguous()
        # the residual scale and the padding mask fold into one multiplier
        m = self.scale if mask is None else mask.unsqueeze(1).to(h.dtype) * self.scale
        fast = not torch.is_grad_enabled()
        for conv in self.convs:
            a, g = conv(self.drop(h)).chunk(2, dim=1)
            if fast:  # inference: in place, fewer temporaries
                h = torch.addcmul(h, a, torch.sigmoid_(g)).mul_(m)
            else:
                h = torch.addcmul(h, a, torch.sigmoid(g)) * m
        # normalised in float32 even under bfloat16 autocast (decoding adds across members)
        return torch.log_softmax(self.out(self.drop(h)).float(), dim=1).transpose(1, 2)
