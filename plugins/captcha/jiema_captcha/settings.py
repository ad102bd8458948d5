"""Option sets of the captcha readers: network shape (stored in the model card) and training."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Arch = Literal["heads", "ctc"]


class NetworkSettings(BaseModel):
    """Shape of a reader network; stored in the card so a weights file rebuilds its network.

    `heads` is the seed's design (conv stack, flatten, one independent softmax per position);
    `ctc` reads conv features column by column (a BiGRU over the width) under CTC.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    arch: Arch = "ctc"
    input_height: int = Field(32, ge=16, description="images are resized to this height")
    input_width: int = Field(96, ge=16, description="... and to this width")
    channels: tuple[int, ...] = Field((32, 64, 96, 128), min_length=2, max_length=6)
    hidden: int = Field(128, ge=8, description="BiGRU width (ctc) or head width (heads)")
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    normalise_input: bool = Field(
        False, description="crop each image to its ink and turn light ink dark before resizing "
                           "(`preprocess.ink_normalised`; for readers of many styles)")

    @model_validator(mode="after")
    def _fits(self) -> NetworkSettings:
        """Every conv block halves the height (and, for heads, the width): it must not vanish."""
        shrink = 2 ** len(self.channels)
        if self.input_height < shrink or (self.arch == "heads" and self.input_width < shrink):
            side = "height" if self.input_height < shrink else "width"
            raise ValueError(
                f"{len(self.channels)} conv blocks need an input {side} of at least {shrink}"
            )
        return self


class TrainOptions(BaseModel):
    """One run of `jiema train captcha`."""

    model_config = ConfigDict(extra="forbid")

    steps: int = Field(12000, ge=1, description="optimizer steps in all")
    batch_size: int = Field(64, ge=1)
    lr: float = Field(2e-3, gt=0, description="peak learning rate (one-cycle schedule)")
    weight_decay: float = Field(1e-4, ge=0)
    pool_size: int = Field(12000, ge=16, description="training images held in memory")
    refresh: int = Field(
        1000, ge=0, description="pool images replaced by fresh ones every `refresh_every` steps"
    )
    refresh_every: int = Field(200, ge=1)
    workers: int = Field(1, ge=0, description="generator processes (0: generate in-process)")
    validation_size: int = Field(1000, ge=1)
    validate_every: int = Field(1000, ge=1, description="steps between validations")
    checkpoint_minutes: float = Field(3.0, gt=0)
    seed: int = Field(0, description="training stream seed; validation uses seed + 1_000_003")
    threads: int | None = Field(1, ge=1, description="torch threads (None: torch's default)")
    init: str | None = Field(
        None, description="start from this model's weights (every tensor whose shape fits)"
    )
    augment: bool = Field(False, description="augment training batches (folder data)")
    patience: int | None = Field(
        None, ge=1, description="stop after this many validations without a better score"
    )
    lr_patience: int | None = Field(
        None, ge=1, description="divide the learning rate by LR_DROP after this many "
        "validations without a better score (None: the schedule is a cosine over `steps`)"
    )


#: The learning rate is divided by this on a plateau of `lr_patience` validations.
LR_DROP = 4.0


class FolderSettings(BaseModel):
    """Where a folder run's images come from; kept in the run so `--resume` reloads the same
    training and validation images."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data: str = Field(description="the labelled folder (absolute path)")
    val_data: str | None = Field(None, description="a folder to validate on instead of a split")
    val_split: float = Field(0.1, gt=0, lt=1, description="share of `data` held out, seeded")
    split_seed: int = 0
    skip_bad: bool = False
