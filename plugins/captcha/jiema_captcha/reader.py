"""`CaptchaReader`: a trained model (shipped name or path) reading captchas, batched.

The network runs in torch (float32); its per-frame (CTC) or per-position (heads) log-probs are
decoded by the core (`decode.py`). Inputs are anything `images.load_image` takes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .decode import Reading, decode_ctc, decode_heads
from .generator import CaptchaSettings
from .images import ImageInput, load_image
from .settings import NetworkSettings

DEFAULT_MODEL = "upper4"
COMPONENT = "captcha.reader.v1"
#: Least gray-level spread (max - min, of 255) of an image with something drawn on it. Generated
#: captchas spread 57 or more (the least of 600 generated, at 32x96); a flat or near-flat image
#: holds nothing to read, and the network would still name characters in it (a blank image
#: was read as "MBBB").
MIN_INK_CONTRAST = 24


@dataclass(frozen=True)
class CaptchaResult:
    """The text read, its confidence (product of the characters') and each character's."""

    text: str
    confidence: float
    char_confidences: tuple[float, ...]


def resolve_model(model: Any = None) -> Any:
    """A `ModelSpec` for a registered name, a path (weights, card or folder) or a spec."""
    import jiema

    if model is None:
        model = DEFAULT_MODEL
    if isinstance(model, jiema.ModelSpec):
        return model
    spec = jiema.default_engine().resolve_model(os.fspath(model))
    if spec.component != COMPONENT:
        from jiema.errors import ModelFileError

        raise ModelFileError(
            f"model {spec.name!r} is for component {spec.component!r}, not {COMPONENT!r}"
        )
    return spec


class CaptchaReader:
    """Reads captcha images with one trained model.

    `read(x)` takes bytes, a path, a PIL image or a NumPy array; `read_batch(xs)` reads many
    in batches of `batch_size` (a bad input raises; `read_each` returns the error in its place).
    """

    def __init__(
        self, model: Any = None, *, batch_size: int = 256, threads: int | None = None
    ) -> None:
        from .train import require_torch

        torch = require_torch("reading captchas")
        from . import network as netmod

        spec = resolve_model(model)
        card = spec.card
        hp = card.hyperparameters
        self.name = card.name
        self.captcha = CaptchaSettings.model_validate(hp["captcha"])
        self.network = NetworkSettings.model_validate(hp["network"])
        self.alphabet = self.captcha.alphabet
        self.batch_size = batch_size
        if threads:
            torch.set_num_threads(threads)
        self.torch = torch
        net = netmod.build(self.network, len(self.alphabet), self.captcha.max_length)
        tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in
                   spec.load_tensors().items()}
        try:
            net.load_state_dict(tensors)
        except RuntimeError as exc:
            from jiema.errors import ModelFileError

            raise ModelFileError(f"weights {spec.path} do not fit the network of its card: "
                                 f"{str(exc).splitlines()[0]}") from None
        self.net = netmod.fuse_for_inference(net)

    @property
    def lengths(self) -> tuple[int, int]:
        return self.captcha.min_length, self.captcha.max_length

    def prepare(self, source: ImageInput) -> np.ndarray:
        """One input as the network's `(H, W)` uint8 grayscale; a blank image (nothing drawn
        on it) is a `NoTextError`, not a guess."""
        from jiema.errors import NoTextError

        from .preprocess import to_gray_small

        gray = to_gray_small(
            load_image(source), self.network.input_height, self.network.input_width,
            self.network.normalise_input,
        )
        contrast = int(gray.max()) - int(gray.min())
        if contrast < MIN_INK_CONTRAST:
            raise NoTextError(f"no text found (a blank image: contrast {contrast} of 255)")
        return gray

    def warm_up(self) -> None:
        """One blank read: torch's first call and the core's Numba kernels, outside timings."""
        h, w = self.network.input_height, self.network.input_width
        self.read_arrays(np.full((1, h, w), 255, dtype=np.uint8))

    def __call__(self, source: ImageInput) -> CaptchaResult:
        """The reader is the `captcha` task's stage: calling it reads one image."""
        return self.read(source)

    def read(self, source: ImageInput) -> CaptchaResult:
        return self.read_arrays(self.prepare(source)[None])[0]

    def read_batch(self, sources: Iterable[ImageInput]) -> list[CaptchaResult]:
        """Every input read; the first bad one raises (use `read_each` to keep going)."""
        out: list[CaptchaResult] = []
        chunk: list[np.ndarray] = []
        for s in sources:
            chunk.append(self.prepare(s))
            if len(chunk) == self.batch_size:
                out.extend(self.read_arrays(np.stack(chunk)))
                chunk = []
        if chunk:
            out.extend(self.read_arrays(np.stack(chunk)))
        return out

    def read_each(self, sources: Sequence[ImageInput]) -> list[CaptchaResult | Exception]:
        """Like `read_batch`, but a bad input's exception takes its place in the list."""
        out: list[CaptchaResult | Exception] = []
        for i in range(0, len(sources), self.batch_size):
            arrays: list[np.ndarray] = []
            slots: list[int] = []
            part: list[CaptchaResult | Exception] = []
            for j, s in enumerate(sources[i : i + self.batch_size]):
                try:
                    arrays.append(self.prepare(s))
                    slots.append(j)
                    part.append(ValueError("unread"))
                except Exception as exc:  # reported in its place, the rest still read
                    part.append(exc)
            if arrays:
                for j, r in zip(slots, self.read_arrays(np.stack(arrays)), strict=True):
                    part[j] = r
            out.extend(part)
        return out

    def log_probs(self, arrays: np.ndarray) -> np.ndarray:
        """`(B, H, W)` uint8 -> the network's log-probabilities as float64 NumPy."""
        from .preprocess import normalise

        with self.torch.no_grad():
            return self.net(normalise(arrays)).double().numpy()

    def read_arrays(self, arrays: np.ndarray) -> list[CaptchaResult]:
        """Prepared `(B, H, W)` uint8 inputs -> results (decoded by the core)."""
        lp = self.log_probs(arrays)
        reads: list[Reading]
        if self.network.arch == "ctc":
            reads = decode_ctc(lp, self.alphabet, *self.lengths)
        else:
            reads = decode_heads(lp, self.alphabet)
        return [CaptchaResult(r.text, r.confidence, r.char_confidences) for r in reads]


_READERS: dict[str, CaptchaReader] = {}


def read_captchas(
    sources: Iterable[ImageInput], model: Any = None, *, batch_size: int = 256
) -> list[CaptchaResult]:
    """Read captchas with a shipped model (by name, default `upper4`) or a model path."""
    key = os.fspath(model) if isinstance(model, str | os.PathLike) else repr(model)
    reader = _READERS.get(key)
    if reader is None:
        reader = _READERS[key] = CaptchaReader(model, batch_size=batch_size)
    reader.batch_size = batch_size
    return reader.read_batch(sources)
