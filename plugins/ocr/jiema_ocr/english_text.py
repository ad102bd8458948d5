"""Latin-letter text for the OCR language model: the prose of the Python standard library's
docstrings (PSF License 2.0), letters only.

People's Daily 1998 holds almost no Latin, so its bigram model scores every pair of letters
alike (about -8.5) and cannot tell `Python` from `Pvthon`, the misreading both readers make of
small screen text. Counting English letter pairs beside the news text gives them English odds.
Punctuation and digits are left out: docstrings are full of `--option` and `>>>`, which taught
the model to read a hyphen twice (dev renders: `400-138-9502` read `400--138--9502`); the news
text already has them as Chinese text uses them.

`python -m jiema_ocr.english_text OUT [--share S] [--seed N]` writes one paragraph a line (words
separated by spaces, which the LM's counting drops), a seeded `share` of all paragraphs.
"""

from __future__ import annotations

import argparse
import ast
import re
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from jiema.atomic import write_text

#: The share of the standard library's paragraphs counted into the shipped LM: 5% is about
#: 62,000 letters beside the news text's 1.84 M characters, enough for letter-pair odds while
#: the letters' share of all text (which sets how readily a glyph is read as a letter) stays
#: small. Dev renders, seeds 1201 / 1303 / 103 / 211 / 307: see the LM card.
DEFAULT_SHARE = 0.05
#: A docstring paragraph is prose when it has this many characters at least ...
MIN_PARAGRAPH_CHARS = 20
#: ... and at least this share of them letters (tables of numbers and code are not).
MIN_LETTER_SHARE = 0.6
#: Files whose path (under the library's folder) contains any of these are left out: tests
#: (repetitive text; the match also drops unittest and doctest) and vendored or third-party
#: trees.
SKIPPED_PARTS = ("test", "site-packages", "idlelib", "lib2to3", "__phello__")


def stdlib_paragraphs(root: str | Path | None = None) -> Iterator[str]:
    """Docstring paragraphs (whitespace collapsed) of the `.py` files under `root` (the
    running interpreter's standard library), ASCII prose only, in file order."""
    base = Path(root) if root is not None else Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(base.rglob("*.py")):
        rel = path.relative_to(base).as_posix()
        if any(part in rel for part in SKIPPED_PARTS):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                     ast.AsyncFunctionDef)):
                continue
            doc = ast.get_docstring(node)
            for para in re.split(r"\n\s*\n", doc or ""):
                text = " ".join(para.split())
                if (len(text) >= MIN_PARAGRAPH_CHARS and text.isascii()
                        and not text.startswith(">>>")
                        and sum(c.isalpha() for c in text) >= MIN_LETTER_SHARE * len(text)):
                    yield text


def letters_only(text: str) -> str:
    """The Latin words of `text`, space-separated (punctuation and digits dropped)."""
    return " ".join(re.findall(r"[A-Za-z]+", text))


def sampled(paragraphs: list[str], share: float, seed: int) -> list[str]:
    """A seeded `share` of `paragraphs` (shuffled, then the first ones taken)."""
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share}")
    order = np.random.default_rng(seed).permutation(len(paragraphs))
    return [paragraphs[i] for i in order[: int(len(paragraphs) * share)]]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m jiema_ocr.english_text",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("out", type=Path, help="text file to write (one paragraph a line)")
    parser.add_argument("--share", type=float, default=DEFAULT_SHARE,
                        help=f"share of the paragraphs kept (default {DEFAULT_SHARE})")
    parser.add_argument("--seed", type=int, default=1, help="seed of the sample (default 1)")
    parser.add_argument("--root", type=Path, default=None,
                        help="standard library folder (default: this Python's)")
    args = parser.parse_args(argv)
    if args.root is not None and not args.root.is_dir():
        parser.error(f"--root {args.root}: not a folder")
    if not args.out.parent.is_dir():
        parser.error(f"{args.out}: its folder does not exist")
    try:
        paragraphs = sampled(list(stdlib_paragraphs(args.root)), args.share, args.seed)
    except ValueError as exc:
        parser.error(str(exc))
    lines = [line for p in paragraphs if (line := letters_only(p))]
    write_text(args.out, "\n".join(lines) + "\n")  # a kill leaves no half-written corpus
    print(f"{args.out}: {len(lines)} paragraphs, "
          f"{sum(len(line.replace(' ', '')) for line in lines)} letters")


if __name__ == "__main__":
    main()
