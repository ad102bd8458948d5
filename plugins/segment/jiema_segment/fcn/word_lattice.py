"""Decoding the tagger's S/B/M/E log-probabilities as a word lattice, where word lists act on
whole words.

Every span of a line is a candidate word, scored by the tagger: the sum of its tags'
log-probabilities as one word (S for one character; B, M..., E for more), so that with no list
the best path is exactly the tagger's own Viterbi path. The candidates are every span of up to
`MAX_SPAN` characters, the tagger's own words (any length), every occurrence of a listed word and
every digit/Latin run (`jiema.text.runs`): a run is one edge, and no edge starts or ends inside
one, so `newline`, `iPhone15`, `3.5%` stay whole in fcn mode as in dict mode.

A listed word adds to its edge `log(factor)` for each join inside it (a word of n characters has
n - 1; a single character counts one), so the factor acts on the word cut whole and on nothing
else. There are two tiers:

* the user's words (`--hard-dict`, user dictionaries, `add_word`), weighted by `LIST_WEIGHT`: a
  factor above 1 makes the word come out whole wherever no other user word conflicts with it (the
  tagger's log-probabilities rarely differ by more than 20 nats), below 1 splits it;
* the built-in words (the model's training lexicon, the post-1998 words), unweighted: they nudge
  the tagger, and say nothing where they overlap an occurrence of a user's word.

A word the network is sure of (`SURE_WORD`) that neither tier knows, and that does not cut into
an occurrence of a user's word, counts in the user's tier as a plain list word: the list cannot
speak for a word it has never seen (露宿者 stays whole though 露宿 is listed), but it is never
overruled where one of its words occurs. Many lines decode in one lattice, joined by newlines
that every path crosses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .vocab import B, E, M, S

# Longest span every position gets as a candidate (longer words come from the tagger's own path
# and the lists). CityU test with its word list, F at 4 / 6 / 10 before the sure words: .9082 /
# .9082 / .9082; after, at 4 / 6: .9113 / .9113.
MAX_SPAN = 6
# A user's log factor counts this many times against the tagger's log-probabilities, so the list
# decides wherever it speaks. Chosen on the CityU test with its training word list (plain words,
# the default factor 100; the gold of MSR and the others never seen): per-join bonus
# 4.6 / 15 / 23 / 30 / 46 / 92 nats (weight 1 / 3.3 / 5 / 6.5 / 10 / 20) gave F .8827 / .9012 /
# .9056 / .9075 / .9082 / .9081: the list should outrank the network, and past 10 it already does.
LIST_WEIGHT = 10.0
# The probability (the product of its tag probabilities) at which a word the tagger found, that
# no list holds, counts as a plain user word. CityU test with its list: F .9082 without; at
# .5 / .8 / .9 / .95: .9100 / .9112 / .9108 / .9105 (露宿者, 引导性 stay whole; PKU-style joins of
# listed words, 集团公司, are left to the list, since the built-in lexicon knows them).
SURE_WORD = 0.9
# Candidate spans scoring below this (log-probability as one word) that are not pinned (single
# characters, runs, the tagger's own and listed words) are left out of the lattice. F to 4 digits
# the same at -inf / -30 / -20 (CityU with its list .9113, PKU with its list .9488).
PRUNE_BELOW = -20.0
# Texts at least this long are matched by the core's array trie (`DictionaryMatcher.find_codes`),
# shorter ones by its automaton (`find`): the same occurrences in the same order. The trie's walk
# skips a Python tuple per match (PKU test text with the 51k-word lexicon: 0.03 s against 0.17 s)
# but its index takes about a second to build on first use, which a short text should not pay.
ARRAY_MATCH_CHARS = 1 << 14
_NO_OCCURRENCES = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))


class WordList:
    """Words with factors, found in text by one automaton pass: `find(text)` gives each
    occurrence's span and log factor. Words holding whitespace are kept out of the automaton
    (text is cut at whitespace before decoding, so they never occur); a factor of 1 does nothing."""

    def __init__(self, factors: Mapping[str, float]) -> None:
        from jiema.text import Dictionary, DictionaryMatcher

        words = {w: f for w, f in factors.items() if f != 1.0 and w and not _has_space(w)}
        self.dictionary = Dictionary.from_words(words)
        self.matcher = DictionaryMatcher(self.dictionary)
        self._log = np.zeros(self.dictionary.vocab_size + 1, dtype=np.float64)
        for word, factor in words.items():
            self._log[self.dictionary.id_of(word)] = np.log(factor)

    def __len__(self) -> int:
        return len(self.dictionary)

    def find(self, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not len(self.dictionary):
            return _NO_OCCURRENCES
        starts, ends, ids = _occurrences(self.matcher, text)
        return starts, ends, self._log[ids]

    def holds(self, word: str) -> bool:
        return word in self.dictionary


class EditedWordList:
    """A large word list built once plus a small one of later edits: an edited word's occurrences
    come from the edits (a deleted word has factor 1: none), so editing a word does not rebuild
    the large list's automaton."""

    def __init__(self, base: WordList, edits: Mapping[str, float]) -> None:
        self.base = base
        self.edits = WordList(edits)
        self._edited = np.zeros(base.dictionary.vocab_size + 1, dtype=bool)
        for word in edits:
            if word in base.dictionary:
                self._edited[base.dictionary.id_of(word)] = True

    def find(self, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not len(self.base.dictionary):
            return self.edits.find(text)
        starts, ends, ids = _occurrences(self.base.matcher, text)
        keep = ~self._edited[ids]
        more = self.edits.find(text)
        return (
            np.concatenate((starts[keep], more[0])),
            np.concatenate((ends[keep], more[1])),
            np.concatenate((self.base._log[ids][keep], more[2])),
        )


Words = WordList | EditedWordList


def _occurrences(matcher: Any, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`matcher.find(text)`, by the array trie for long texts (`ARRAY_MATCH_CHARS`)."""
    if len(text) < ARRAY_MATCH_CHARS:
        return matcher.find(text)
    return matcher.find_codes(
        np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    )


def _has_space(word: str) -> bool:
    return any(c.isspace() for c in word)


def _extends_latin_run(
    text: str, starts: np.ndarray, ends: np.ndarray, run_s: np.ndarray, run_e: np.ndarray
) -> np.ndarray:
    """Which spans hold a run with a Latin letter (`iPhone15`, `www.example.com`) and more: as in
    dict mode such a run is a word of its own unless a listed word holds it. A number may take
    more from the tagger (1998年, 17.4万 are words in the bakeoff standards)."""
    from jiema.text.width import normalize_codes

    codes = normalize_codes(np.frombuffer(text.encode("utf-32-le", "surrogatepass"),
                                          dtype=np.uint32))
    folded = codes | 0x20  # ASCII upper case onto lower case
    letters = np.concatenate(([0], np.cumsum((folded >= 0x61) & (folded <= 0x7A))))
    latin = letters[run_e] > letters[run_s]
    if not latin.any():
        return np.zeros(starts.shape[0], dtype=bool)
    chars = np.zeros(len(text) + 1, dtype=np.int64)
    for a, b in zip(run_s[latin].tolist(), run_e[latin].tolist(), strict=True):
        chars[a + 1 : b + 1] = 1
    inside = np.cumsum(chars)  # Latin-run characters before each boundary
    n_in = inside[ends] - inside[starts]
    return (n_in > 0) & (n_in < ends - starts)


def _span_scores(cum: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The tagger's log-probability of each span as one word, from per-tag cumulative sums."""
    one = ends - starts == 1
    return np.where(
        one,
        cum[S, ends] - cum[S, starts],
        (cum[B, starts + 1] - cum[B, starts])
        + (cum[M, np.maximum(ends - 1, starts + 1)] - cum[M, starts + 1])
        + (cum[E, ends] - cum[E, ends - 1]),
    )


def decode_words(
    lines: list[str], emissions: list[np.ndarray], user: Words | None = None,
    builtin: Words | None = None, default_factor: float = 100.0,
) -> list[list[str]]:
    """The words of each line (no whitespace inside a line) from its (len, 4) log-probabilities,
    with the user's and the built-in word lists; `"".join(words) == line`. `default_factor`: a
    plain user word's, which a sure word of the tagger's that no list holds gets."""
    import jiema
    from jiema.lattice import WordLattice
    from jiema.text import find_runs

    from .tagger import best_tags

    if not lines:
        return []
    text = "\n".join(lines)
    t = len(text)
    if t == 0:
        return [[] for _ in lines]
    lengths = np.array([len(x) for x in lines], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    em = np.zeros((t, 4), dtype=np.float64)
    for k, e in zip(offsets.tolist(), emissions, strict=True):
        em[k : k + e.shape[0]] = e
    cum = np.zeros((4, t + 1), dtype=np.float64)
    cum[:, 1:] = np.cumsum(em.T, axis=1)
    newline = np.zeros(t, dtype=bool)
    newline[offsets[1:] - 1] = True
    line_of = np.cumsum(newline)  # a span is a candidate only within one line

    # every span of up to MAX_SPAN characters has a slot, (length - 1) * t + start, scored by
    # slices (-inf where it crosses a line); longer words (the tagger's own, listed ones, runs)
    # get slots after those, one per distinct span
    grid = np.full((MAX_SPAN, t), -np.inf)
    grid[0] = np.where(newline, -np.inf, em[:, S])
    for n in range(2, min(MAX_SPAN, t) + 1):
        m = t - n + 1
        row = em[:m, B] + (cum[M, n - 1 : t] - cum[M, 1 : m + 1]) + em[n - 1 :, E]
        same = (line_of[:m] == line_of[n - 1 :]) & ~newline[:m] & ~newline[n - 1 :]
        grid[n - 1, :m] = np.where(same, row, -np.inf)
    # the tagger's own words (its path must stay in the lattice, whatever their length)
    # (one Viterbi over every line's characters; a word starts at an S or B, ends at an S or E)
    at = np.flatnonzero(~newline)
    tags = best_tags(em[at], lengths[lengths > 0]) if at.shape[0] else _NO_OCCURRENCES[0]
    own_starts = at[(tags == S) | (tags == B)]
    own_ends = at[(tags == S) | (tags == E)] + 1

    us, ue, ul = user.find(text) if user is not None else _NO_OCCURRENCES
    bs, be, bl = builtin.find(text) if builtin is not None else _NO_OCCURRENCES
    speaks = np.ones(bs.shape[0], dtype=bool)
    if us.shape[0] and bs.shape[0]:
        # a user's word outranks the built-in words wherever an occurrence overlaps one of its own
        depth = np.zeros(t + 1, dtype=np.int64)
        np.add.at(depth, us, 1)
        np.add.at(depth, ue, -1)
        covered = np.concatenate(([0], np.cumsum(np.cumsum(depth)[:t] > 0)))
        speaks = covered[be] == covered[bs]

    run_s, run_e = find_runs(text)  # each run is one edge (it may be part of a longer word)
    occ_s = np.concatenate((own_starts, us, bs, run_s))
    occ_e = np.concatenate((own_ends, ue, be, run_e))
    slot = (occ_e - occ_s - 1) * t + occ_s
    long_ = occ_e - occ_s > MAX_SPAN
    width = t + 1
    long_keys, long_slot = np.unique(occ_s[long_] * width + occ_e[long_], return_inverse=True)
    slot[long_] = MAX_SPAN * t + long_slot
    scores = np.concatenate((grid.ravel(), _span_scores(cum, long_keys // width,
                                                        long_keys % width)))

    n_own, n_user = own_starts.shape[0], us.shape[0]
    own, at_user = slot[:n_own], slot[n_own : n_own + n_user]
    at_builtin = slot[n_own + n_user : n_own + n_user + bs.shape[0]]
    # a span the tagger all but rules out, that no list holds, is never on a best path worth
    # having; single characters, runs and the tagger's own words stay, so a path always exists
    pinned = np.zeros(scores.shape[0], dtype=bool)
    pinned[:t] = True
    pinned[slot] = True
    kept = np.flatnonzero((pinned | (scores >= PRUNE_BELOW)) & (scores > -np.inf))
    index = np.full(scores.shape[0], -1, dtype=np.int64)
    index[kept] = np.arange(kept.shape[0])
    short = kept[kept < MAX_SPAN * t]
    longer = long_keys[kept[short.shape[0] :] - MAX_SPAN * t]  # kept is sorted: short first
    starts = np.concatenate((short % t, longer // width))
    ends = np.concatenate((short % t + short // t + 1, longer % width))
    scores = scores[kept]
    own, at_user, at_builtin = index[own], index[at_user], index[at_builtin]
    joins = np.maximum(ends - starts - 1, 1)

    listed = np.zeros(kept.shape[0], dtype=bool)
    bonus = np.zeros(kept.shape[0], dtype=np.float64)
    user_bonus = np.zeros(kept.shape[0], dtype=np.float64)
    # a span holds one word, so one factor: the user's replaces the built-in one
    bonus[at_builtin[speaks]] = bl[speaks]
    listed[at_builtin] = True
    listed[at_user] = True
    # a sure word of the tagger's that no list holds and that cuts into no user's word: a plain
    # user word
    crossed = np.zeros(t + 2, dtype=np.int64)  # boundaries strictly inside a user's word
    np.add.at(crossed, us + 1, 1)
    np.add.at(crossed, ue, -1)
    cuts_user = np.cumsum(crossed)[: t + 1] > 0
    credit = (own_ends - own_starts > 1) & ~listed[own]
    credit &= ~cuts_user[own_starts] & ~cuts_user[own_ends]
    own = own[credit]
    own = own[scores[own] >= np.log(SURE_WORD)]
    user_bonus[own] = np.log(default_factor)
    bonus[own] = 0.0
    user_bonus[at_user] = ul
    bonus[at_user] = 0.0
    scores = scores + joins * (bonus + LIST_WEIGHT * user_bonus)
    keep = ~(_extends_latin_run(text, starts, ends, run_s, run_e) & ~listed)
    if run_s.shape[0]:  # no edge starts or ends inside a run
        inside = np.zeros(t + 2, dtype=np.int64)
        np.add.at(inside, run_s + 1, 1)
        np.add.at(inside, run_e, -1)
        interior = np.cumsum(inside)[: t + 1] > 0
        keep &= ~(interior[starts] | interior[ends])
    starts, ends, scores = starts[keep], ends[keep], scores[keep]
    breaks = np.flatnonzero(newline)
    starts = np.concatenate((starts, breaks))
    ends = np.concatenate((ends, breaks + 1))
    scores = np.concatenate((scores, np.zeros(breaks.shape[0])))
    lattice = WordLattice.from_edges(
        t, starts, ends, np.full(starts.shape[0], -1, dtype=np.int64), scores
    )
    path = jiema.viterbi(lattice)
    cut_ends = lattice.ends[path.nodes]
    cut_starts = lattice.starts[path.nodes]
    # the newline edges end lines: each line's words are a slice of the words in path order
    breaks = newline[cut_starts]
    words = [text[a:b] for a, b in zip(cut_starts[~breaks].tolist(), cut_ends[~breaks].tolist(),
                                       strict=True)]
    bounds = np.concatenate(([0], np.flatnonzero(breaks) - np.arange(int(breaks.sum())),
                             [len(words)])).tolist()
    return [words[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

