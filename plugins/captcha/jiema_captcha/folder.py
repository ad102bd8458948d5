"""A folder of the user's labelled captchas: labels, checks, the validation split, the input size.

Labels come from `labels.tsv` (`file<TAB>label`) when the folder has one, else from the file
names: the stem up to the first `_` or `-` (`a1b2c.png`, `a1b2c_17.png` and `A1B2C-0.png` are
all labelled by their first part). Every image is read with the core's `jiema.images` reader;
an unreadable image, an empty label or a character outside the alphabet is a bad sample, and
all of them are reported at once (or skipped and counted).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from jiema.label_table import LABELS_FILE

if TYPE_CHECKING:
    from .generator import CaptchaSettings
    from .settings import FolderSettings

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"})
#: A file name's label ends at the first of these (`a1b2c_17.png`, `A1B2C-0.png`).
NAME_SEPARATORS = "_-"
#: Bad samples named in the error; the rest are counted.
BAD_SHOWN = 5
#: Network input height for folder data: 32 rows keep the strokes of a 40-80 pixel high
#: captcha and cost a quarter of 64; the width follows the images' aspect ratio. 48 rows did
#: worse on small folders in the same time budget (defaults, 1 thread; test char accuracy /
#: whole): lines5 0.39 / 0% vs 0.32 / 0%, claptcha5 0.35 / 0% vs 0.20 / 0%, wqy6 (1,800
#: images) 0.994 / 96.5% vs 0.981 / 89.5%; only wheezy5 read better (6% vs 2% whole).
INPUT_HEIGHT = 32
#: A folder of this many training images or more is large: it trains a bigger reader
#: (`cli.LARGE_NETWORK`) on taller inputs (LARGE_INPUT_HEIGHT), as its time budget allows.
LARGE_FOLDER = 3000
#: Input height for a large folder. dejavu4-8 (captcha_folders.py: ImageCaptcha, DejaVu fonts,
#: 4-8 lowercase letters and digits, 64x200; 8,100 training images, defaults, 2 threads): test
#: whole-captcha accuracy 92.0% at 48 rows (the 27-minute budget ended it, still improving)
#: against 80.0% at 32 (patience ended it at 22 min), the same large reader; a step costs ~2x.
LARGE_INPUT_HEIGHT = 48
#: Input widths are multiples of this (the CTC network pools the width by 4: one frame each).
WIDTH_STEP = 4
#: CTC frames per character at least (a doubled letter needs a blank between its two frames),
#: so a long label always fits: width >= FRAMES_PER_CHAR * 4 * max length.
FRAMES_PER_CHAR = 2
#: The widest input chosen from the images (a very wide strip costs time, not accuracy).
MAX_INPUT_WIDTH = 320


@dataclass(frozen=True)
class Sample:
    """One labelled image of a folder."""

    path: Path
    label: str


@dataclass(frozen=True)
class LabelledImages:
    """The good samples of a folder, their images (gray uint8 arrays at full size) and how many
    bad samples were skipped."""

    folder: Path
    samples: list[Sample]
    images: list[np.ndarray]
    skipped: int

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self.samples]


def label_from_name(path: Path) -> str:
    """`a1b2c_17.png` -> `a1b2c`: the stem up to the first separator."""
    stem = path.stem
    cut = [i for i in (stem.find(c) for c in NAME_SEPARATORS) if i >= 0]
    return stem[: min(cut)] if cut else stem


def list_samples(folder: str | os.PathLike[str]) -> list[Sample]:
    """The folder's labelled images, from labels.tsv or from the file names, in file order."""
    from jiema.errors import InvalidInputError
    from jiema.label_table import read_label_table

    root = Path(folder)
    if not root.is_dir():
        raise InvalidInputError(f"{root} is not a folder")
    tsv = root / LABELS_FILE
    if tsv.is_file():
        table = read_label_table(tsv)  # UTF-8 checked
        if table.malformed:
            n, line = table.malformed[0]
            raise InvalidInputError(f"{tsv}:{n}: expected file<TAB>label, got {line!r}")
        samples = [Sample(root / row.file, row.label.strip()) for row in table.rows]
        if not samples:
            raise InvalidInputError(f"{tsv} lists no images")
        return samples
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise InvalidInputError(
            f"{root} has no {LABELS_FILE} and no images ({', '.join(sorted(IMAGE_SUFFIXES))})"
        )
    return [Sample(p, label_from_name(p)) for p in files]


def _problem(sample: Sample, alphabet: str | None) -> str | None:
    """Why a sample's label cannot be trained on, or None."""
    if not sample.label:
        return "empty label"
    if any(c.isspace() for c in sample.label):
        return f"label {sample.label!r} has whitespace"
    if alphabet is not None:
        outside = sorted(set(sample.label) - set(alphabet))
        if outside:
            return f"label {sample.label!r} has characters outside the alphabet: {''.join(outside)}"
    return None


def load_folder(
    folder: str | os.PathLike[str],
    *,
    alphabet: str | None = None,
    case_insensitive: bool = False,
    skip_bad: bool = False,
) -> LabelledImages:
    """Read and check every sample (labels lowercased when case-insensitive); bad ones raise one
    `InvalidInputError` naming the first few, or are skipped with `skip_bad`."""
    from jiema.errors import InvalidInputError
    from jiema.images import read_image

    from .preprocess import to_gray

    samples = list_samples(folder)
    if case_insensitive:
        samples = [Sample(s.path, s.label.lower()) for s in samples]
    good: list[Sample] = []
    images: list[np.ndarray] = []
    bad: list[str] = []
    for s in samples:
        why = _problem(s, alphabet)
        if why is None:
            try:
                images.append(to_gray(read_image(s.path)))
                good.append(s)
                continue
            except (OSError, InvalidInputError) as exc:
                why = f"not a readable image ({str(exc).removeprefix(str(s.path) + ': ')})"
        bad.append(f"{s.path.name}: {why}")
    if bad and not skip_bad:
        more = f"; and {len(bad) - BAD_SHOWN} more" if len(bad) > BAD_SHOWN else ""
        raise InvalidInputError(
            f"{len(bad)} bad sample(s) in {folder} (fix them or give --skip-bad): "
            + "; ".join(bad[:BAD_SHOWN]) + more
        )
    if not good:
        raise InvalidInputError(f"no usable samples in {folder}")
    return LabelledImages(Path(folder), good, images, len(bad))


def alphabet_of(labels: Sequence[str]) -> str:
    """The labels' characters, sorted (digits, then upper, then lower case)."""
    return "".join(sorted({c for lab in labels for c in lab}))


def split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train, validation) index arrays: `fraction` of `n` (at least one) held out."""
    from jiema.errors import InvalidInputError

    n_val = max(1, round(n * fraction))
    if n - n_val < 1:
        raise InvalidInputError(
            f"{n} image(s) cannot be split into training and validation; add images or give "
            "--val-data"
        )
    order = np.random.default_rng([seed, n]).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def is_large(training_images: int) -> bool:
    """Whether a folder of this many training images is large (see LARGE_FOLDER)."""
    return training_images >= LARGE_FOLDER


def input_size(images: Sequence[np.ndarray], max_length: int,
               height: int = INPUT_HEIGHT) -> tuple[int, int]:
    """`(height, width)` for the network: `height` rows, the width keeping the images' median
    aspect ratio, wide enough for `max_length` characters of CTC frames."""
    aspect = float(np.median([im.shape[1] / im.shape[0] for im in images]))
    width = round(height * aspect / WIDTH_STEP) * WIDTH_STEP
    least = FRAMES_PER_CHAR * WIDTH_STEP * max_length
    return height, int(min(MAX_INPUT_WIDTH, max(width, least, 4 * WIDTH_STEP)))


def median_size(images: Sequence[np.ndarray]) -> tuple[int, int]:
    """The images' median `(height, width)` (the card's picture of the data)."""
    return (int(np.median([im.shape[0] for im in images])),
            int(np.median([im.shape[1] for im in images])))


def resized(images: Sequence[np.ndarray], height: int, width: int, normalise: bool = False
            ) -> np.ndarray:
    """Gray images -> `(N, height, width)` uint8, as the reader prepares its inputs
    (`ink_normalised` first where `normalise` asks for it)."""
    from .preprocess import ink_normalised, resize_gray

    out = np.empty((len(images), height, width), dtype=np.uint8)
    for i, im in enumerate(images):
        out[i] = resize_gray(ink_normalised(im) if normalise else im, height, width)
    return out



@dataclass(frozen=True)
class FolderRun:
    """What a folder run trains and validates on, and how its captchas look (for the card)."""

    captcha: CaptchaSettings
    input_size: tuple[int, int]
    train_images: np.ndarray
    train_labels: list[str]
    val_images: np.ndarray
    val_labels: list[str]
    summary: dict[str, object]


def prepare(
    settings: FolderSettings,
    *,
    alphabet: str | None = None,
    case_insensitive: bool = False,
    input_hw: tuple[int, int] | None = None,
    normalise: bool = False,
) -> FolderRun:
    """Load, check and split the run's folder(s); the alphabet, lengths and input size come from
    the labels and images unless given."""
    from jiema.errors import InvalidInputError

    from .generator import CaptchaSettings

    if alphabet is not None and case_insensitive:
        alphabet = "".join(dict.fromkeys(alphabet.lower()))
    data = load_folder(settings.data, alphabet=alphabet, case_insensitive=case_insensitive,
                       skip_bad=settings.skip_bad)
    if settings.val_data is not None:
        val = load_folder(settings.val_data, alphabet=alphabet,
                          case_insensitive=case_insensitive, skip_bad=settings.skip_bad)
        train_idx, val_idx = np.arange(len(data.samples)), np.arange(len(val.samples))
        how = f"validation folder {settings.val_data}"
        skipped = data.skipped + val.skipped
    else:
        val = data
        train_idx, val_idx = split(len(data.samples), settings.val_split, settings.split_seed)
        how = f"{settings.val_split:g} of the folder held out (seed {settings.split_seed})"
        skipped = data.skipped
    train_pick = [data.samples[i] for i in train_idx]
    train_imgs = [data.images[i] for i in train_idx]
    val_pick = [val.samples[i] for i in val_idx]
    val_imgs = [val.images[i] for i in val_idx]
    labels = [s.label for s in train_pick + val_pick]
    if alphabet is None:
        alphabet = alphabet_of(labels)
    lengths = [len(lab) for lab in labels]
    height, width = median_size(train_imgs)
    try:
        captcha = CaptchaSettings(
            alphabet=alphabet, min_length=min(lengths), max_length=max(lengths),
            width=min(max(width, 16), 2000), height=min(max(height, 16), 1000),
            case_insensitive=case_insensitive,
        )
    except ValueError as exc:
        raise InvalidInputError(f"{settings.data}: {exc}") from None
    height = LARGE_INPUT_HEIGHT if is_large(len(train_imgs)) else INPUT_HEIGHT
    h, w = input_hw or input_size(train_imgs, captcha.max_length, height)
    summary: dict[str, object] = {
        "folder": settings.data,
        "images": len(train_pick) + len(val_pick),
        "training_images": len(train_pick),
        "validation_images": len(val_pick),
        "split": how,
        "skipped_bad": skipped,
        "lengths": sorted(set(lengths)),
        "median_image_size": [height, width],
    }
    return FolderRun(captcha, (h, w), resized(train_imgs, h, w, normalise),
                     [s.label for s in train_pick], resized(val_imgs, h, w, normalise),
                     [s.label for s in val_pick], summary)
