"""Fit the OCR span chooser (`jiema_ocr.span_choice`) and say what it changes.

Renders the benchmark's page, screen, photo, line and banner sets (`ocr_sets`, `ocr.py`) at
seeds the benchmark never uses (it uses 2026 and 2026 + 1-4), reads every found line both ways
(glyphs cut and classified, whole by the line recogniser), labels each span where the two
readings differ by the reading that leaves fewer errors, and fits the chooser (one hidden layer)
on the fitting seeds. It prints, per set, the merged reader's errors with the confidence rules and
with the chooser: on each fitting seed with a chooser fitted on the other fitting seeds
(held out by seed), and on the check seeds with the chooser fitted on them all, which is the
one written to --out. `ocr_real_dev` is read only to report (never fitted on).

    JIEMA_DATA=../shared/data python benchmarks/ocr_span_choice.py \\
        --out plugins/ocr/jiema_ocr/models/gb2312-span-choice.safetensors
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ocr import DATA, SET_SEED, build_eval_set  # noqa: E402
from ocr_sets import REAL_DEV, pages_set, photo_set, real_set, screen_set, training_faces  # noqa: E402

SETS = ("pages", "screen", "photo", "lines", "banners")
FIT_SEEDS = "103,211,307,401,509,811,919,1031"
CHECK_SEEDS = "613,727"
LINES_PER_IMAGE_SET = 5  # the benchmark reads 300 lines beside 60 banners: lines are this many
# times the other sets' images


def render(name: str, seed: int, n: int) -> list[tuple[np.ndarray, str]]:
    if name in ("lines", "banners"):
        lines, banners = build_eval_set(n * LINES_PER_IMAGE_SET, n, seed)
        return [(s.image, s.text) for s in (lines if name == "lines" else banners)]
    make = {"screen": screen_set, "pages": pages_set, "photo": photo_set}[name]
    return [(s.image, s.text) for s in make(DATA, n, seed + SET_SEED[name], training_faces())]


def errors(reader, items, chooser) -> int:
    from jiema_ocr.cer import cer_text, edit_distance, real_text

    reader.chooser = chooser
    total = 0
    for name, _, text, lines in items:
        norm = real_text if name == "real" else cer_text
        total += edit_distance(norm(text),
                               norm("\n".join(r.text for r in reader.merged_lines(lines))))
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=None,
                    help="write the fitted chooser here (NAME.safetensors, card beside it)")
    ap.add_argument("--fit-seeds", default=FIT_SEEDS)
    ap.add_argument("--check-seeds", default=CHECK_SEEDS)
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--n", type=int, default=60, help="images per set and seed (lines: 5x)")
    ap.add_argument("--line-model", default=None, help="line recogniser (default: shipped)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if args.out is not None and not args.out.endswith(".safetensors"):
        ap.error(f"--out must name a .safetensors file (its card goes beside it), got {args.out}: "
                 "checked before the readings, which take minutes")
    import numba
    import torch

    torch.set_num_threads(args.threads)
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    from jiema_ocr.classifier import DEFAULT_MODEL, CharClassifier
    from jiema_ocr.fit_span_choice import (
        HIDDEN_UNITS,
        L2_PENALTY,
        fit_labelled,
        fitting_readings,
        label_samples,
        read_both,
    )
    from jiema_ocr.language_model import load_default_lm
    from jiema_ocr.line_ctc import LineCTCReader, LineRecognizer
    from jiema_ocr.pipeline import LMDecoder, OcrReader
    from jiema_ocr.plugin import LINE_MODEL
    from jiema_ocr.surer_reader import SurerReader
    from tqdm import tqdm

    lm = load_default_lm()
    decoder = LMDecoder(lm, None)
    line_model = args.line_model or LINE_MODEL
    reader = SurerReader(OcrReader(CharClassifier.load(DEFAULT_MODEL), decoder),
                         LineCTCReader(LineRecognizer.load(line_model), decoder))
    sets = [s for s in args.sets.split(",") if s]
    fit_seeds = [int(s) for s in args.fit_seeds.split(",") if s]
    check_seeds = [int(s) for s in args.check_seeds.split(",") if s]
    t0 = time.perf_counter()
    items: dict[tuple[str, int], list] = {}
    jobs = [(name, seed) for seed in fit_seeds + check_seeds for name in sets]
    for name, seed in tqdm(jobs, desc="render and read", file=sys.stderr):
        items[(name, seed)] = [(name, seed, text, read_both(reader, image))
                               for image, text in render(name, seed, args.n)]
    real_folder = DATA / REAL_DEV
    real = ([("real", 0, s.text, read_both(reader, s.image)) for s in real_set(real_folder)]
            if (real_folder / "labels.tsv").is_file() else [])

    # each fitting seed's spans labelled once; every fit below stacks some of them
    labelled = {seed: label_samples([(fitting_readings(lines), text) for name in sets
                                     for _, _, text, lines in items[(name, seed)]], lm)
                for seed in fit_seeds}

    def fit(seeds):
        return fit_labelled(np.concatenate([labelled[s][0] for s in seeds]),
                            np.concatenate([labelled[s][1] for s in seeds]))

    rows: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for seed in fit_seeds:
        held_out, _ = fit([s for s in fit_seeds if s != seed])
        for name in sets:
            rows[name]["rules"].append(errors(reader, items[(name, seed)], None))
            rows[name]["held out"].append(errors(reader, items[(name, seed)], held_out))
    chooser, scores = fit(fit_seeds)
    for seed in check_seeds:
        for name in sets:
            rows[name]["check rules"].append(errors(reader, items[(name, seed)], None))
            rows[name]["check chooser"].append(errors(reader, items[(name, seed)], chooser))
    real_rules, real_chooser = errors(reader, real, None), errors(reader, real, chooser)
    minutes = (time.perf_counter() - t0) / 60

    print(f"python benchmarks/ocr_span_choice.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"line model {Path(line_model).stem}; fit seeds {args.fit_seeds}; check seeds "
          f"{args.check_seeds}; {args.n} images a set and seed; {minutes:.1f} min")
    print("| set | rules (fit seeds) | chooser held out by seed | rules (check seeds) "
          "| chooser (check seeds) |")
    print("|---|---:|---:|---:|---:|")
    totals = np.zeros(4, dtype=int)
    for name in sets:
        r = rows[name]
        cells = [sum(r["rules"]), sum(r["held out"]), sum(r["check rules"]),
                 sum(r["check chooser"])]
        totals += cells
        print(f"| {name} | " + " | ".join(str(c) for c in cells) + " |")
    print("| all | " + " | ".join(str(c) for c in totals) + " |")
    if real:
        print(f"ocr_real_dev errors (never fitted on): rules {real_rules}, chooser {real_chooser}")
    print(f"fitting spans {scores['spans']}: chooser right on {scores['fitted_right']:.1%}, "
          f"the surer span on {scores['surer_right']:.1%}")
    if args.out:
        from jiema.models import ModelCard, provenance

        card = ModelCard(
            name=Path(args.out).stem, component="", task="ocr",
            description="Span chooser of the surer reader (ocr.surer.v1): where the glyph "
                        "reader and the line recogniser read a line differently, which span "
                        "to keep (one tanh hidden layer over the features named in labels).",
            hyperparameters={"l2_penalty": L2_PENALTY, "hidden_units": HIDDEN_UNITS,
                             "fit_seeds": args.fit_seeds,
                             "check_seeds": args.check_seeds, "sets": sets, "n": args.n,
                             "char_model": DEFAULT_MODEL, "line_model": Path(line_model).stem,
                             "lm": "pd98-char-bigram", "fitting_minutes": round(minutes, 1)},
            training_data=f"renders of benchmarks/ocr_sets.py and ocr.py ({', '.join(sets)}; "
                          f"{args.n} images a set and seed, lines {LINES_PER_IMAGE_SET}x) at "
                          f"seeds {args.fit_seeds}, never the benchmark's seeds (2026 and "
                          "2026 + 1-4) nor ocr_real_dev; text from the SIGHAN PKU test text "
                          "and the benchmark's templates; fonts: the training fonts",
            licence="Apache-2.0 (fitted numbers; the renders are not shipped)",
            scores={**{k: float(v) for k, v in scores.items()},
                    "errors_fit_seeds_rules": float(totals[0]),
                    "errors_fit_seeds_held_out_by_seed": float(totals[1]),
                    "errors_check_seeds_rules": float(totals[2]),
                    "errors_check_seeds_chooser": float(totals[3]),
                    "ocr_real_dev_errors_rules": float(real_rules),
                    "ocr_real_dev_errors_chooser": float(real_chooser)},
            **provenance([[shlex.join(["python", "benchmarks/ocr_span_choice.py", *sys.argv[1:]])]],
                         packages=["numpy", "scipy", "torch"]),
        )
        chooser.save(args.out, card)
        print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
