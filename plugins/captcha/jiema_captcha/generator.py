"""Reproducible captchas from `captcha==0.7.1`'s ImageCaptcha.

ImageCaptcha draws every random number from the `secrets` module (the OS's entropy), so it can
never repeat an image. Here it draws from a `random.Random` seeded per image instead: image `i`
of seed `s` is the same bytes on every run, machine and process, and any slice of a stream can
be made on its own (a worker process, a resumed run) without replaying what came before.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = UPPER.lower()
DIGITS = "0123456789"


class CaptchaSettings(BaseModel):
    """What a captcha set looks like: alphabet, length (fixed or a min..max range), image size,
    and whether labels are case-insensitive (mixed case drawn, lowercase label)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alphabet: str = Field(UPPER, min_length=1, description="characters of the labels")
    min_length: int = Field(4, ge=1, le=32)
    max_length: int = Field(4, ge=1, le=32)
    width: int = Field(160, ge=16, le=2000)
    height: int = Field(60, ge=16, le=1000)
    case_insensitive: bool = False

    @field_validator("alphabet")
    @classmethod
    def _unique(cls, v: str) -> str:
        if len(set(v)) != len(v):
            raise ValueError(f"alphabet {v!r} repeats characters")
        if any(c.isspace() for c in v):
            raise ValueError("alphabet must not contain whitespace")
        return v

    @model_validator(mode="after")
    def _check(self) -> CaptchaSettings:
        if self.min_length > self.max_length:
            raise ValueError(f"min_length {self.min_length} > max_length {self.max_length}")
        if self.case_insensitive and self.alphabet != self.alphabet.lower():
            raise ValueError(
                "a case-insensitive alphabet is given in lowercase (its labels); "
                f"got {self.alphabet!r}"
            )
        return self

    @property
    def drawn_alphabet(self) -> str:
        """The characters drawn on images: both cases of each letter when case-insensitive."""
        if not self.case_insensitive:
            return self.alphabet
        extra = "".join(c.upper() for c in self.alphabet if c.upper() != c)
        return self.alphabet + extra

    def label_of(self, shown: str) -> str:
        return shown.lower() if self.case_insensitive else shown


class _SeededSecrets:
    """The three `secrets` functions ImageCaptcha calls, drawn from one seeded Random."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def randbelow(self, n: int) -> int:
        return self._rng.randrange(n)

    def randbits(self, k: int) -> int:
        return self._rng.getrandbits(k)

    def choice(self, seq: Any) -> Any:
        return self._rng.choice(seq)


_PATCH_LOCK = threading.Lock()


@contextmanager
def _seeded_captcha_module(rng: random.Random) -> Iterator[None]:
    """Point `captcha.image.secrets` at `rng` for the duration (a lock keeps threads apart)."""
    import captcha.image as module

    with _PATCH_LOCK:
        saved = module.secrets
        module.secrets = _SeededSecrets(rng)  # type: ignore[assignment]
        try:
            yield
        finally:
            module.secrets = saved


def image_rng(seed: int, index: int) -> random.Random:
    """The Random that draws image `index` of stream `seed` (independent of every other one)."""
    return random.Random(f"jiema-captcha/{seed}/{index}")


class CaptchaGenerator:
    """Captcha images with their labels; `(seed, index)` fixes text and image exactly."""

    def __init__(self, settings: CaptchaSettings | None = None, seed: int = 0) -> None:
        from captcha.image import ImageCaptcha

        self.settings = settings or CaptchaSettings()
        self.seed = int(seed)
        self._drawer = ImageCaptcha(width=self.settings.width, height=self.settings.height)

    def text(self, rng: random.Random) -> str:
        s = self.settings
        n = rng.randint(s.min_length, s.max_length)
        return "".join(rng.choice(s.drawn_alphabet) for _ in range(n))

    def sample(self, index: int) -> tuple[Any, str]:
        """`(PIL image, label)` of image `index`: the label is lowercase when case-insensitive."""
        rng = image_rng(self.seed, index)
        shown = self.text(rng)
        with _seeded_captcha_module(rng):
            image = self._drawer.generate_image(shown)
        return image, self.settings.label_of(shown)

    def png(self, index: int) -> tuple[bytes, str]:
        """Image `index` as PNG bytes, with its label."""
        import io

        image, label = self.sample(index)
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        return buf.getvalue(), label

    def batch(self, start: int, count: int) -> Iterator[tuple[Any, str]]:
        for i in range(start, start + count):
            yield self.sample(i)
