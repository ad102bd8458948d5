"""Option sets of the FCN tagger: network shape (stored in the model card) and training run."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

# Network arithmetic when decoding: "auto" is bfloat16 where the CPU has it natively
# (fcn._torch.native_bfloat16), else float32 (see fcn.tagger for the measurements).
Precision = Literal["auto", "float32", "bfloat16"]
PRECISIONS: tuple[str, ...] = get_args(Precision)


class FCNSettings(BaseModel):
    """Shape of the gated residual convolution stack; stored in the card so a file rebuilds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dim: int = Field(128, ge=4, description="embedding and channel width")
    layers: int = Field(5, ge=1)
    kernel: int = Field(3, ge=1, description="odd width of every convolution")
    dilations: tuple[int, ...] = Field((1, 2, 4), description="cycled over the layers")
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    bigram_dim: int = Field(
        0, ge=0, description="width of the character-bigram embedding added per position; 0: off"
    )


class TrainOptions(BaseModel):
    """One training run of `jiema train segment`."""

    model_config = ConfigDict(extra="forbid")

    epochs: int = Field(10, ge=1)
    batch_chars: int = Field(4000, ge=16, description="padded characters per batch")
    lr: float = Field(2e-3, gt=0)
    dev_fraction: float = Field(0.05, ge=0.0, lt=1.0, description="every 1/f-th line is dev")
    min_count: int = Field(2, ge=1, description="rarer characters train the UNK embedding")
    min_bigram_count: int = Field(
        3, ge=1, description="rarer character bigrams train the UNK bigram embedding"
    )
    unk_dropout: float = Field(
        0.0, ge=0.0, lt=1.0,
        description="share of training characters shown as UNK per batch (unseen test characters)",
    )
    bigram_unk_dropout: float = Field(
        0.0, ge=0.0, lt=1.0,
        description="share of training bigrams shown as UNK per batch (unseen test bigrams)",
    )
    lr_schedule: Literal["constant", "cosine"] = Field(
        "constant", description="cosine: lr decays per epoch towards lr/20 at the last epoch"
    )
    patience: int = Field(3, ge=1, description="epochs without a better dev F before stopping")
    checkpoint_minutes: float = Field(5.0, gt=0)
    seed: int = 0
    threads: int | None = Field(None, ge=1)
    max_lines: int | None = Field(None, ge=1, description="use only the first N lines (tests)")
    teacher: str | None = Field(
        None, description="an FCN model (e.g. the pd98-fcn ensemble) whose S/B/M/E probabilities "
        "on the training split are soft targets (distillation)",
    )
    teacher_weight: float = Field(
        0.5, ge=0.0, le=1.0,
        description="share of the loss that is cross-entropy to the teacher; the rest is the "
        "gold tags' NLL",
    )
    extra_corpora: tuple[str, ...] = Field(
        (), description="segmented corpora trained on too, but not counted into the vocabularies, "
        "the dev split or the lexicon (e.g. `jiema_segment.fcn.augment`'s word-swapped lines)",
    )
    init: str | None = Field(
        None, description="an FCN model of the same vocabularies to start from: tensors of the "
        "same shape are copied, narrower character embeddings are its principal components",
    )
