"""Text plumbing shared by the task plugins: dictionaries, width normalisation, digit/Latin
runs, and Aho-Corasick dictionary matching into word lattices.

Names load on first use, so `import jiema.text` costs nothing until one is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jiema.lazy import lazy_exports

_LAZY = {
    "Dictionary": "jiema.text.dictionary",
    "Entry": "jiema.text.dictionary",
    "load_weighted_words": "jiema.text.dictionary",
    "normalize_codes": "jiema.text.width",
    "normalize_width": "jiema.text.width",
    "width_table": "jiema.text.width",
    "find_runs": "jiema.text.runs",
    "merge_runs": "jiema.text.runs",
    "DictionaryMatcher": "jiema.text.matching",
}

__all__ = sorted(_LAZY)  # the lazy table is the export list

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)


if TYPE_CHECKING:  # pragma: no cover  (re-exported for type checkers: `X as X`)
    from .dictionary import Dictionary as Dictionary
    from .dictionary import Entry as Entry
    from .dictionary import load_weighted_words as load_weighted_words
    from .matching import DictionaryMatcher as DictionaryMatcher
    from .runs import find_runs as find_runs
    from .runs import merge_runs as merge_runs
    from .width import normalize_codes as normalize_codes
    from .width import normalize_width as normalize_width
    from .width import width_table as width_table
