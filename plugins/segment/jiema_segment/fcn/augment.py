"""Word-swapped copies of a tagged corpus: more lines for a student to learn its teacher on.

A distilled student matches its teacher on the training lines and falls behind it on new text
(pd98-fcn-fast: PD 1998-01 dev F with the lexicon .9712 against the teacher's .9733, and further
behind on the PKU test). A copy of each training line where some words are swapped for other
words of the same part of speech and length (`swap_words`) keeps the line's segmentation and
grammar but puts words next to neighbours they never had: new character bigrams at the joins,
as in text the model has not seen. `jiema train segment-swaps` writes them (leaving out the
dev split's lines, so no dev word's context leaks into training), and `jiema train segment
--extra-corpus` trains on them without counting them into the vocabularies, the dev split or the
lexicon.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

# Share of a line's swappable words that are swapped. A guess, not tuned: enough new joins per
# line (a PD line has about 25 words) while most of each line stays as written.
SWAP_SHARE = 0.2
# Parts of speech never swapped: punctuation (w) and the auxiliaries and particles whose
# neighbours decide their segmentation (u, y, k, e, o).
KEEP_TAGS = frozenset({"w", "u", "y", "k", "e", "o"})


def tagged_lines(path: str | Path) -> Iterator[list[tuple[str, str]]]:
    """(word, tag) of each non-blank People's Daily line (`jiema.corpus.parse_pd_tagged_line`:
    compounds' inner words, the leading document id dropped). A line not of that form raises
    InvalidInputError naming the file and line."""
    from jiema.corpus import parse_pd_tagged_line, read_lines

    for rec in read_lines([str(path)]):
        pairs = parse_pd_tagged_line(rec.text, where=f"{rec.file}:{rec.line}")
        if pairs:
            yield pairs


def swap_words(
    lines: Iterable[list[tuple[str, str]]], share: float, rng: np.random.Generator,
    copies: int = 1,
) -> Iterator[list[str]]:
    """`copies` word-swapped versions of each line (its words): each swappable word is replaced,
    with probability `share`, by a word drawn from all the lines' words of the same tag and length
    (as often as it occurs there)."""
    lines = list(lines)
    pool: dict[tuple[str, int], list[str]] = defaultdict(list)
    for pairs in lines:
        for word, tag in pairs:
            if tag not in KEEP_TAGS:
                pool[(tag, len(word))].append(word)
    for _ in range(copies):
        for pairs in lines:
            out = []
            for word, tag in pairs:
                same = pool.get((tag, len(word)))
                if same and tag not in KEEP_TAGS and rng.random() < share:
                    word = same[int(rng.integers(len(same)))]
                out.append(word)
            yield out
