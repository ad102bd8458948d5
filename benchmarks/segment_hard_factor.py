"""Choose the default hard-decoding factor without touching the test set.

    python benchmarks/segment_hard_factor.py [--model PATH] [--dev-fraction 0.03]
        [--factors 1,3,10,30,100,300,1000]

The People's Daily 1998-01 corpus is split exactly as `jiema train segment` splits it (every
round(1/f)-th line is dev); the words of the training lines form a plain word list (its single
characters get no factor, as in any plain list), which hard decoding applies to the dev lines at
each factor. Prints dev word P/R/F per factor: the default
(`jiema_segment.fcn.tagger.DEFAULT_HARD_FACTOR`) is the best of these.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared/data/corpora/peoples_daily_199801.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--model", default=None, help="default: the shipped pd98-fcn")
    parser.add_argument("--dev-fraction", type=float, default=0.03,
                        help="as the model was trained (its card: training.dev_fraction)")
    parser.add_argument("--factors", default="1,3,10,30,100,300,1000")
    args = parser.parse_args()
    if not args.corpus.is_file():
        sys.exit(f"corpus not found: {args.corpus} (pass --corpus)")

    from jiema_segment.fcn.tagger import (
        FCNTagger,
        HardDictionary,
        model_path_default,
        plain_word_factor,
    )
    from jiema_segment.fcn.train import load_corpus, split_dev, word_f

    train, dev = split_dev(load_corpus([str(args.corpus)]), args.dev_fraction)
    words = {w for line in train for w in line}
    tagger = FCNTagger.load(args.model or model_path_default())
    text = ["".join(line) for line in dev]
    print(f"dev: {len(dev)} lines; word list: {len(words)} words from {len(train)} train lines\n")
    print("| factor | P | R | F |")
    print("|---|---|---|---|")
    for factor in (float(f) for f in args.factors.split(",")):
        # as a plain list loads: single characters get none
        plain = {w: plain_word_factor(w, factor) for w in words}
        hard = None if factor == 1.0 else HardDictionary(plain)
        pred = tagger.cut_lines(text, hard)
        p, r, f = word_f(dev, pred)
        print(f"| {factor:g} | {p:.4f} | {r:.4f} | {f:.4f} |")


if __name__ == "__main__":
    main()
