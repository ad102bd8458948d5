"""`CharClassifier`: top-k characters with probabilities for glyph crops (the char CNN).

Loading reads safetensors + the JSON card (never a pickle); torch is imported on load, so
`import jiema_ocr` stays light.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from jiema.errors import InvalidValueError, ModelFileError, ShapeError

from .charset import Charset
from .glyphs import INPUT_SIZE, Polarity, normalize_glyph

COMPONENT = "ocr.char_cnn.v1"
# the network's shape when a card does not say it: `CharNet`'s defaults, which the first
# cards (written before the cards recorded them) were trained with
CARD_DEFAULT_WIDTH = 64
CARD_DEFAULT_HIDDEN = 256
TASK = "ocr"
DEFAULT_MODEL = "gb2312-cnn"
MODELS_DIR = Path(__file__).parent / "models"
MIN_PROB = 1e-4  # the seed's "negligible" probability: candidates below it are dropped


def resolve_model_path(path_or_name: str | os.PathLike[str]) -> Path:
    """A path as given, or a model shipped in `jiema_ocr/models` by name."""
    path = Path(path_or_name)
    if path.exists():
        return path
    shipped = MODELS_DIR / f"{path_or_name}.json"
    if shipped.is_file():
        return shipped
    names = sorted(p.stem for p in MODELS_DIR.glob("*.json"))
    raise ModelFileError(
        f"no char model {str(path_or_name)!r}: not a file, and not a shipped model "
        f"(shipped: {', '.join(names) or 'none'})"
    )


def _require_torch() -> Any:
    from jiema.errors import require

    return require("torch", "torch")


def load_trained(path_or_name: str | os.PathLike[str] = DEFAULT_MODEL) -> tuple[Any, Charset, int]:
    """A stored char model as trained: the `CharNet` (float32, train-time layers), its charset
    and its input size. `CharClassifier.load` prepares it for reading; fine-tuning starts here."""
    torch = _require_torch()
    from jiema.models import find_model_files, load_tensors

    from .cnn.net import CharNet

    weights, card = find_model_files(resolve_model_path(path_or_name))
    if card.component != COMPONENT or not card.labels:
        raise ModelFileError(
            f"{weights} is a {card.component!r} model with "
            f"{len(card.labels or [])} labels; expected {COMPONENT!r} with a label list"
        )
    hp = card.hyperparameters
    size = int(hp.get("input_size", INPUT_SIZE))
    net = CharNet(len(card.labels), input_size=size,
                  width=int(hp.get("width", CARD_DEFAULT_WIDTH)),
                  hidden=int(hp.get("hidden", CARD_DEFAULT_HIDDEN)))
    tensors = {k: torch.from_numpy(v.astype(np.float32) if v.dtype == np.float16 else v)
               for k, v in load_tensors(weights).items()}
    missing, unexpected = net.load_state_dict(tensors, strict=False)
    missing = [m for m in missing if not m.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ModelFileError(
            f"{weights} does not fit the char CNN: missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}"
        )
    return net, Charset(card.labels), size


class CharClassifier:
    """A trained CharNet with its charset; `topk` on uint8 gray crops of any size."""

    def __init__(self, net: Any, charset: Charset, input_size: int = INPUT_SIZE,
                 batch_size: int = 256) -> None:
        self.net = net.eval()
        self.charset = charset
        self.input_size = input_size
        self.batch_size = batch_size

    @classmethod
    def load(cls, path_or_name: str | os.PathLike[str] = DEFAULT_MODEL, *,
             int8_linears: bool = True, bfloat16: bool = True) -> CharClassifier:
        """The model ready for CPU reading. `int8_linears`: the hidden layer and the head over
        ~6,900 classes in int8 (`jiema.nn.quantize_linears`), about 1.5 ms less per line of
        ~30; the dev renders read the same up to one error per thousand lines either way.
        `bfloat16`: the conv features in bfloat16 where the CPU does that natively
        (`jiema.nn.in_bfloat16`): 2.5x faster, the glyph CNN being most of a page's time."""
        from jiema.nn import for_cpu_inference, in_bfloat16, quantize_linears

        net, charset, size = load_trained(path_or_name)
        # folded batch norms, strided max pools, channels-last weights: same outputs, about
        # half the CPU time
        net = for_cpu_inference(net)
        if bfloat16:
            body: Any = net
            body.features = in_bfloat16(body.features)
        return cls(quantize_linears(net) if int8_linears else net, charset, input_size=size)

    def _inputs(self, glyphs: Sequence[np.ndarray], polarity: Polarity) -> np.ndarray:
        x = np.empty((len(glyphs), 1, self.input_size, self.input_size), dtype=np.float32)
        for i, g in enumerate(glyphs):
            arr = np.asarray(g)
            if arr.ndim not in (2, 3):
                raise ShapeError(f"glyph {i} must be a 2-D gray (or H x W x C) image, "
                                 f"got shape {arr.shape}")
            x[i, 0] = normalize_glyph(arr, self.input_size, polarity)
        return x

    def _batched_probabilities(self, glyphs: Sequence[np.ndarray], polarity: Polarity
                               ) -> Iterator[Any]:
        """The glyphs' class probabilities, one float32 torch tensor per batch."""
        torch = _require_torch()
        x = self._inputs(glyphs, polarity)
        with torch.inference_mode():
            for s in range(0, len(glyphs), self.batch_size):
                logits = self.net(torch.from_numpy(x[s: s + self.batch_size]))
                yield torch.softmax(logits.float(), dim=1)

    def probabilities(self, glyphs: Sequence[np.ndarray],
                      polarity: Polarity = "dark") -> np.ndarray:
        """`(N, num_classes)` float32 class probabilities, in batches. `polarity`: "dark" for
        dark text on a light background (the contract), "light", or "auto" (guessed per crop)."""
        out = np.empty((len(glyphs), len(self.charset)), dtype=np.float32)
        s = 0
        for probs in self._batched_probabilities(glyphs, polarity):
            out[s: s + len(probs)] = probs.numpy()
            s += len(probs)
        return out

    def topk(
        self, glyphs: Sequence[np.ndarray], k: int = 5, min_prob: float = MIN_PROB,
        polarity: Polarity = "dark",
    ) -> list[list[tuple[str, float]]]:
        """Per glyph (uint8 gray crop, any size) its up to `k` best `(char, probability)`, best
        first; candidates below `min_prob` are dropped (the best one is always kept)."""
        if k < 1:
            raise InvalidValueError(f"k must be at least 1, got {k}")
        if not glyphs:
            return []
        torch = _require_torch()
        k = min(k, len(self.charset))
        labels = self.charset.labels
        out = []
        for probs in self._batched_probabilities(glyphs, polarity):
            # torch's top-k on the batch: sorting ~6,900 classes per glyph in NumPy cost more
            values, indices = torch.topk(probs, k, dim=1)
            for row_p, row_i in zip(values.tolist(), indices.tolist(), strict=True):
                kept = [(labels[j], p) for p, j in zip(row_p, row_i, strict=True)
                        if p >= min_prob]
                out.append(kept or [(labels[row_i[0]], row_p[0])])
        return out
