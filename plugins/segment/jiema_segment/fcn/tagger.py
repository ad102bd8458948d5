"""Running a trained FCN tagger: log-probabilities by length-bucketed batches, hard decoding
from a weighted word list, best SBME path by the core's trellis Viterbi.

Hard decoding adds log(factor) to the tag log-probabilities of every occurrence of a listed word
(S for one character; B, M..., E for longer ones). Overlapping occurrences add up (their factors
multiply); nothing is renormalised, because Viterbi only compares relative scores.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from jiema.errors import InvalidInputError

from .lexicon import TEXT_KEY, WORDNESS_KEY, lexicon_from_tensors
from .settings import PRECISIONS, FCNSettings, Precision
from .vocab import B, BigramVocab, CharVocab, E, M, S, words_from_tags

COMPONENT = "segment.fcn.v1"
# the default: one network distilled from the ensemble (issue 23: F at a speed near jieba's)
FCN_MODEL = "pd98-fcn-fast"
# the five-network ensemble it was distilled from, shipped too and chosen by name
ENSEMBLE_MODEL = "pd98-fcn"
SHIPPED_MODELS = (FCN_MODEL, ENSEMBLE_MODEL)
# The factor of a plain word of two or more characters in a user's list; its one-character words
# get none (see `plain_word_factor`). The Segmenter's word lattice (fcn.word_lattice) counts it per
# join, weighted by LIST_WEIGHT. First chosen, for per-tag hard decoding (`HardDictionary`), on
# the PD 1998-01 dev split with the training split's word list (benchmarks/segment_hard_factor.py,
# never the PKU test); pd98-fcn when it was one network, word F by factor 1 / 3 / 10 / 30 / 100 /
# 300 / 1000:
#   .9631 .9652 .9666 .9668 .9679 .9674 .9670  -> 100.
DEFAULT_HARD_FACTOR = 100.0
# Factor of the built-in post-1998 words (models/modern-words.txt); in the word lattice it counts
# per join, below any user's word overlapping them. Chosen for per-tag decoding: the tagger has
# never seen
# them and numerals pull hard: pd98-fcn (when one network) gave 二 S .95 / 维 B .95, so 二维码
# needs a factor over ~25 (at 10 and 20 it stays 二 维码; at 30 it is whole). PKU test F was the
# same (0.9444) with the list at 10, 30 or 50 and without it: these words are not in 1998 text.
BUILTIN_WORDS_FACTOR = 30.0
# characters per forward batch (padded); sequences are sorted by length first. Measured on the PKU
# test text (forward only, chars/s, 1 / 2 threads): 4k 87k/128k, 8k 90k/150k, 16k 79k/126k,
# 32k 72k/96k: 8k keeps a layer's activations in cache.
BATCH_CHARS = 1 << 13
# Precision "auto" (settings.Precision) runs the networks in bfloat16 where the CPU has it
# natively. Measured with the 3-network pd98-fcn (AVX512-BF16 CPU, PKU test text, 2 threads):
# bfloat16 1.5-1.75x the chars/s of float32; word F the same to 4 digits for 1, 3, 4 and 5
# networks, on the PD 1998-01 dev split (3: .9725 with the lexicon) and on the PKU test (3:
# .9549); log-probs differ by up to 0.44 at a few positions. Members' outputs are summed in
# float32. The 5-network pd98-fcn: bfloat16 123-129k chars/s, float32 70-88k (PKU F .9553 /
# .9554 with the lexicon).
# longest piece run at once; longer lines run as overlapping windows
WINDOW = 4096


def plain_word_factor(word: str, default: float) -> float:
    """The factor of a plain list word: `default`, but 1 (none) for a single character.

    Nearly every character is a word on its own somewhere, so a list's single characters carry
    no information, and multiplying S for all of them only biases against longer unknown words
    (dev F with factor 100 on the longer words: single characters at 1 .9679, at 2 .9679, at 0.5
    .9664; every word at 10, as before, .9645). Give a single character a factor explicitly
    (`号,5`) to move it."""
    return default if len(word) > 1 else 1.0


@lru_cache(maxsize=1)
def sbme_transitions() -> Any:
    """The SBME grammar: S/E -> S/B, B/M -> M/E, start in {S,B}, end in {S,E}."""
    from jiema import DenseTransitions

    allowed = np.zeros((4, 4), dtype=bool)
    allowed[[S, S, E, E], [S, B, S, B]] = True
    allowed[[B, B, M, M], [M, E, M, E]] = True
    start = np.array([True, True, False, False])
    end = np.array([True, False, False, True])
    return DenseTransitions.from_allowed(allowed, start, end)


def decode_tags(emissions: list[np.ndarray]) -> list[np.ndarray]:
    """Best SBME tag sequence of each (T, 4) log-probability array, one batched Viterbi."""
    if not emissions:
        return []
    lengths = np.array([e.shape[0] for e in emissions], dtype=np.int64)
    keep = lengths > 0
    out = [np.zeros(0, dtype=np.int64) for _ in emissions]
    if not keep.any():
        return out
    stacked = np.concatenate([e for e in emissions if e.shape[0]])
    labels = best_tags(stacked, lengths[keep])
    offs = np.concatenate(([0], np.cumsum(lengths[keep])))
    for j, i in enumerate(np.flatnonzero(keep).tolist()):
        out[i] = labels[offs[j] : offs[j + 1]]
    return out


def best_tags(stacked: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """`decode_tags` of sequences given joined: `stacked` (sum(lengths), 4) log-probabilities of
    sequences of `lengths` (each > 0) -> their best SBME tags, joined alike."""
    import jiema

    path = jiema.viterbi(
        jiema.Trellis.from_ragged(stacked.astype(np.float64, copy=False), lengths),
        sbme_transitions(), lengths=None,
    )
    return path.labels


class HardDictionary:
    """A weighted word list for hard decoding (`word,factor` lines; plain words get `default`)."""

    def __init__(self, factors: Mapping[str, float]) -> None:
        from jiema.text import Dictionary, DictionaryMatcher

        bad = [w for w, f in factors.items() if not (np.isfinite(f) and f > 0)]
        if bad:
            raise InvalidInputError(
                f"hard-decoding factors must be finite and > 0; bad for: {', '.join(bad[:5])}"
            )
        factors = {w: f for w, f in factors.items() if f != 1.0}  # a factor of 1 does nothing
        self.dictionary = Dictionary.from_words(factors)
        self.matcher = DictionaryMatcher(self.dictionary)
        self._log = np.zeros(self.dictionary.vocab_size + 1, dtype=np.float64)
        for word, factor in factors.items():
            self._log[self.dictionary.id_of(word)] = np.log(factor)

    @classmethod
    def load(
        cls, source: str | os.PathLike | Iterable[str], default: float = DEFAULT_HARD_FACTOR
    ) -> HardDictionary:
        from jiema.text.dictionary import load_weighted_words

        return cls(load_weighted_words(source, lambda word: plain_word_factor(word, default)))

    def __len__(self) -> int:
        return len(self.dictionary)

    def apply(self, text: str, emissions: np.ndarray) -> np.ndarray:
        """`emissions` (T, 4) plus log(factor) on the tags of every occurrence (a new array)."""
        return self.apply_many([text], [emissions])[0]

    def apply_many(self, texts: list[str], emissions: list[np.ndarray]) -> list[np.ndarray]:
        """`apply` on many lines with one automaton pass: the lines are joined by newlines, which
        no listed word contains, so no occurrence crosses a line."""
        if not texts:
            return []
        lengths = np.array([len(t) for t in texts], dtype=np.int64)
        starts_at = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
        joined = "\n".join(texts)
        em = np.zeros((len(joined), 4), dtype=np.float64)
        for k, e in zip(starts_at.tolist(), emissions, strict=True):
            em[k : k + e.shape[0]] = e
        starts, ends, ids = self.matcher.find(joined)
        if starts.shape[0]:
            self._add(em, starts, ends, self._log[ids])
        return [em[k : k + n] for k, n in zip(starts_at.tolist(), lengths.tolist(), strict=True)]

    @staticmethod
    def _add(em: np.ndarray, starts: np.ndarray, ends: np.ndarray, logf: np.ndarray) -> None:
        t = em.shape[0]
        n = ends - starts
        one = n == 1
        em[:, S] += np.bincount(starts[one], logf[one], minlength=t)
        long_ = ~one
        em[:, B] += np.bincount(starts[long_], logf[long_], minlength=t)
        em[:, E] += np.bincount(ends[long_] - 1, logf[long_], minlength=t)
        inner = np.maximum(n[long_] - 2, 0)
        if inner.sum():
            reps = np.repeat(np.arange(inner.shape[0]), inner)
            within = np.arange(reps.shape[0]) - np.repeat(np.cumsum(inner) - inner, inner)
            em[:, M] += np.bincount(
                starts[long_][reps] + 1 + within, logf[long_][reps], minlength=t
            )


class FCNTagger:
    """A loaded FCN model: `log_probs(lines)` and `cut_lines(lines, hard)`.

    A model may hold several networks of the same shape and vocabulary (an ensemble, see
    `fcn.ensemble`); their log-probabilities are averaged. `precision` (settings.Precision) is
    resolved once, here: `.precision` is "float32" or "bfloat16"."""

    def __init__(
        self, network: Any, vocab: CharVocab, settings: FCNSettings, card: Any = None,
        bigrams: BigramVocab | None = None, lexicon: Mapping[str, float] | None = None,
        precision: Precision = "auto",
    ):
        if settings.bigram_dim and bigrams is None:
            raise ValueError("a network with bigram_dim > 0 needs its BigramVocab")
        members = list(network) if isinstance(network, (list, tuple)) else [network]
        if not members:
            raise ValueError("an FCN model needs at least one network")
        self.networks = [n.eval() for n in members]
        self.vocab = vocab
        self.bigrams = bigrams if settings.bigram_dim else None
        self.settings = settings
        self.card = card
        # word -> wordness in the training text (fcn.lexicon); None when the model has none
        self.lexicon = dict(lexicon) if lexicon is not None else None
        self.precision = resolve_precision(precision)

    @property
    def network(self) -> Any:
        """The first (or only) network."""
        return self.networks[0]

    @classmethod
    def load(
        cls, path: str | os.PathLike, precision: Precision = "auto", networks: int | None = None
    ) -> FCNTagger:
        """From a safetensors file, its card, or a folder holding one model card. `networks`:
        decode with only the first that many networks of an ensemble (faster, a little less
        accurate: the shipped pd98-fcn with 3 of its 5 scored PKU F .9549 against .9553)."""
        from jiema.models import find_model_files

        from ._torch import import_network, require_torch

        require_torch()  # MissingExtraError naming the extra, before any torch import
        network_mod = import_network()
        from safetensors.torch import load_file

        from .ensemble import split_members
        from .quantize import dequantize

        weights, card = find_model_files(path)
        tensors = load_file(str(weights))
        vocab = CharVocab.from_codepoints(tensors.pop("vocab.codepoints").numpy())
        keys = tensors.pop("vocab.bigram_keys", None)
        bigrams = BigramVocab(keys.numpy()) if keys is not None else None
        lexicon = None
        if TEXT_KEY in tensors:
            text, wordness = tensors.pop(TEXT_KEY), tensors.pop(WORDNESS_KEY)
            lexicon = lexicon_from_tensors(text.numpy(), wordness.float().numpy())
        settings = FCNSettings.model_validate(card.hyperparameters.get("network", {}))
        states = split_members(dequantize(tensors))
        if networks is not None:
            if not 1 <= networks <= len(states):
                raise InvalidInputError(
                    f"networks={networks}: {weights.name} holds {len(states)} network(s)"
                )
            states = states[:networks]
        nets = []
        for state in states:
            net = network_mod.GatedConvTagger(
                len(vocab), settings, len(bigrams) if bigrams is not None else 0
            )
            net.load_state_dict({k: v.float() for k, v in state.items()})
            nets.append(net)
        return cls(nets, vocab, settings, card, bigrams, lexicon, precision)

    @property
    def context(self) -> int:
        """How many characters on each side can change a position's scores."""
        st = self.settings
        dil = [st.dilations[i % len(st.dilations)] for i in range(st.layers)]
        # a bigram embedding reads one character further to the right
        return sum(r * (st.kernel - 1) // 2 for r in dil) + (1 if st.bigram_dim else 0)

    def log_probs(self, lines: list[str]) -> list[np.ndarray]:
        """(len(line), 4) float32 log-probabilities of S/B/M/E for each line.

        Lines longer than `WINDOW` run as overlapping windows (overlap >= the receptive field),
        so a 1 MB line takes bounded memory and gives the same scores as in one piece. With
        `precision` bfloat16 the networks run under CPU autocast to bfloat16."""
        from ._torch import require_torch

        torch = require_torch()
        ids = self.vocab.encode_many(lines)
        bis = self.bigrams.encode_many(lines) if self.bigrams is not None else None
        out = [np.zeros((n.shape[0], 4), dtype=np.float32) for n in ids]
        margin = self.context
        # pieces: (line, core start, core end, window start, window end)
        pieces: list[tuple[int, int, int, int, int]] = []
        for k, x in enumerate(ids):
            n = x.shape[0]
            for a in range(0, n, WINDOW):
                b = min(n, a + WINDOW)
                pieces.append((k, a, b, max(0, a - margin), min(n, b + margin)))
        order = sorted(range(len(pieces)), key=lambda i: pieces[i][4] - pieces[i][3])
        bf16 = self.precision == "bfloat16"
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            i = 0
            while i < len(order):
                j = i + 1
                # a group holds BATCH_CHARS characters of output: a long line's windows (their
                # margins beyond it) batch two by two, as short lines batch many to a group
                while j < len(order) and (pieces[order[j]][2] - pieces[order[j]][1]) * (
                    j + 1 - i
                ) <= BATCH_CHARS:
                    j += 1
                group = [pieces[q] for q in order[i:j]]
                i = j
                t = max(p[4] - p[3] for p in group)
                batch = np.zeros((len(group), t), dtype=np.int64)
                bbatch = np.zeros((len(group), t), dtype=np.int64) if bis is not None else None
                for r, (k, _, _, ws, we) in enumerate(group):
                    batch[r, : we - ws] = ids[k][ws:we]
                    if bbatch is not None and bis is not None:
                        bbatch[r, : we - ws] = bis[k][ws:we]
                x = torch.from_numpy(batch)
                xb = torch.from_numpy(bbatch) if bbatch is not None else None
                mask = x != 0 if len(group) > 1 else None
                lp_t = self.networks[0](x, mask, xb).float()  # summed in float32
                for net in self.networks[1:]:
                    lp_t += net(x, mask, xb).float()
                if len(self.networks) > 1:
                    lp_t /= len(self.networks)
                lp = lp_t.numpy()
                for r, (k, a, b, ws, _) in enumerate(group):
                    out[k][a:b] = lp[r, a - ws : b - ws]
        return out

    def cut_lines(
        self, lines: list[str], hard: HardDictionary | None = None
    ) -> list[list[str]]:
        """Words of each line; `"".join(words) == line`."""
        return self.words_from_log_probs(lines, self.log_probs(lines), hard)

    @staticmethod
    def words_from_log_probs(
        lines: list[str], emissions: list[np.ndarray],
        hard: HardDictionary | None = None,
    ) -> list[list[str]]:
        """The decoding half of `cut_lines`, for log-probabilities already computed (scoring
        one forward pass with and without a hard list)."""
        if hard is not None:
            emissions = hard.apply_many(lines, emissions)
        tags = decode_tags(emissions)
        return [words_from_tags(t, g) for t, g in zip(lines, tags, strict=True)]


def resolve_precision(precision: str) -> str:
    """"float32" or "bfloat16" for a `Precision` ("auto": bfloat16 only where it is native)."""
    if precision not in PRECISIONS:
        raise InvalidInputError(
            f"unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}"
        )
    if precision != "auto":
        return precision
    from ._torch import native_bfloat16

    return "bfloat16" if native_bfloat16() else "float32"


def builtin_words_path() -> Path:
    """The built-in hard-decoding list of words newer than the training text."""
    return Path(__file__).resolve().parent.parent / "models" / "modern-words.txt"


def model_path_default() -> Path:
    """Where the shipped default FCN model lives (it may be absent)."""
    return shipped_model_path(FCN_MODEL)


def shipped_model_path(name: str) -> Path:
    """Where the shipped FCN model `name` (one of `SHIPPED_MODELS`) lives (it may be absent)."""
    return Path(__file__).resolve().parent.parent / "models" / f"{name}.safetensors"
