"""Captcha readers beside ddddocr on fresh captchas of a seed never used in training.

    python benchmarks/captcha.py [--n 1000] [--seed 20261123] [--threads 1]
        [--models upper4,letters4-ci] [--extra MODEL_PATH ...] [--no-ddddocr]

For every model, N captchas of the model's own kind (alphabet, length, case rule, from its card)
are generated with `--seed` (training streams use seeds < 1000, validation seed + 1_000_003).
Prints whole-captcha and per-character accuracy of the model and of ddddocr on the same images
(ddddocr compared case-insensitively, as the issue asks), images/s reading PNG bytes in batches
(decode + resize + network + core Viterbi) in wall time and per CPU-second of this process (the
machine is shared: the second is what a free core would give), ms to read one image (median of
50), and the training time from the model card. ddddocr is in the `bench` extra.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from importlib import metadata

# This file is named like the `captcha` package it benchmarks: keep its folder off the path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]


def score(gold: list[str], pred: list[str]) -> tuple[float, float]:
    from jiema_captcha.train import score as _score

    s = _score(gold, pred)
    return s["whole_accuracy"], s["char_accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: on a shared 2-core machine, 2 threads measured "
                             "slower than 1)")
    parser.add_argument("--models", default="upper4,letters4-ci")
    parser.add_argument("--extra", action="append", default=[], help="more model paths")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--no-ddddocr", action="store_true")
    args = parser.parse_args()

    import torch
    from jiema_captcha.generator import CaptchaGenerator
    from jiema_captcha.reader import CaptchaReader

    torch.set_num_threads(args.threads)
    ocr = None
    if not args.no_ddddocr:
        try:
            import ddddocr

            ocr = ddddocr.DdddOcr(show_ad=False)
            dd_version = metadata.version("ddddocr")
        except ImportError:
            print("ddddocr not installed (pip install -e '.[bench]'); its rows are skipped\n")
    names = [m for m in args.models.split(",") if m] + args.extra
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{args.n} fresh captchas per model, seed {args.seed}; torch threads {args.threads}; "
          f"{os.cpu_count()} CPU cores, load average {load}\n")
    print("| model | set | whole | per-char | images/s (batch) | images per CPU-s "
          "| ms / image (one) | training time |")
    print("|---|---|---|---|---|---|---|---|")
    ddddocr_done: set[str] = set()
    for name in names:
        reader = CaptchaReader(name, batch_size=args.batch_size)
        cap = reader.captcha
        gen = CaptchaGenerator(cap, args.seed)
        pngs, gold = zip(*(gen.png(i) for i in range(args.n)), strict=True)
        set_name = f"{cap.alphabet[:3]}…×{cap.min_length}" + (
            f"-{cap.max_length}" if cap.max_length != cap.min_length else ""
        ) + (" ci" if cap.case_insensitive else "")
        reader.read_batch(pngs[:8])  # warm-up: Numba compile, torch first call
        t0, c0 = time.perf_counter(), time.process_time()
        results = reader.read_batch(pngs)
        per_s = args.n / (time.perf_counter() - t0)
        per_cpu_s = args.n / (time.process_time() - c0)  # what one free core would do
        single = []
        for p in pngs[:50]:
            t1 = time.perf_counter()
            reader.read(p)
            single.append((time.perf_counter() - t1) * 1000)
        whole, char = score(list(gold), [r.text for r in results])
        train = training_time(reader_card(name).hyperparameters)
        print(f"| {reader.name} ({reader.network.arch}) | {set_name} | {whole:.2%} | "
              f"{char:.2%} | {per_s:.0f} | {per_cpu_s:.0f} | {statistics.median(single):.1f} "
              f"| {train} |")
        if ocr is not None and set_name not in ddddocr_done:  # once per captcha set
            ddddocr_done.add(set_name)
            fold = str.lower if cap.case_insensitive else str.upper
            t0, c0 = time.perf_counter(), time.process_time()
            pred = [fold(ocr.classification(p)) for p in pngs]
            dd_s = args.n / (time.perf_counter() - t0)
            dd_cpu_s = args.n / (time.process_time() - c0)
            whole, char = score([fold(g) for g in gold], pred)
            print(f"| ddddocr {dd_version} (case-insensitive) | {set_name} | {whole:.2%} | "
                  f"{char:.2%} "
                  f"| {dd_s:.0f} (one by one) | {dd_cpu_s:.0f} | {1000 / dd_s:.1f} | pretrained |")


def training_time(hp: dict) -> str:
    """Training wall time in all, on this 2-core machine shared with other jobs (a model
    started from another one includes that one's time and steps)."""
    total = hp.get("training_seconds_total", hp.get("training_seconds", 0.0)) / 60
    text = f"{total:.0f} min, {hp.get('training_steps_total')} steps, {hp.get('threads')} thread"
    if hp.get("initialised_from"):
        text += f" (incl. {total - hp.get('training_seconds', 0.0) / 60:.0f} min of the " \
                "earlier stages)"
    return text


def reader_card(name: str):  # type: ignore[no-untyped-def]
    from jiema_captcha.reader import resolve_model

    return resolve_model(name).card


if __name__ == "__main__":
    main()
