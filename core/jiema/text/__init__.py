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

__all__ = [
    "Dictionary",
    "DictionaryMatcher",
    "Entry",
    "find_runs",
    "load_weighted_words",
    "merge_runs",
    "normalize_codes",
    "normalize_width",
    "width_table",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)




if TYPE_CHECKING:  # pragma: no cover
    from .dictionary import Dictionary, Entry, load_weighted_words
    from .matching import DictionaryMatcher
    from .runs import find_runs, merge_runs
    from .width import normalize_codes, normalize_width, width_table
