"""One very long line against the same text as short lines, in both segment modes.

    python benchmarks/segment_long_lines.py [--data ../shared/data/icwb2] [--chars 2100000]
        [--repeat 2] [--modes dict,fcn] [--torch-threads N]

The PKU test text (its line ends removed) is repeated up to --chars characters and cut twice per
round, interleaved in one process: as one line, and as lines of LINE_CHARS characters. A long
line runs as overlapping windows decoded as one lattice (fcn.tagger.WINDOW), so its chars/s
should match the short lines' and its memory stay bounded. Prints chars/s (best of --repeat),
their ratio, whether the long line's words join back into the text, and the peak
resident memory of the process after each mode.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/icwb2"
# short lines of about a sentence, as a corpus file has them
LINE_CHARS = 100


def best_time(call, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = call()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--chars", type=int, default=2_100_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--modes", default="dict,fcn")
    ap.add_argument("--torch-threads", type=int, default=None,
                    help="torch's thread count (a busy machine: 1 keeps OpenMP from spinning)")
    args = ap.parse_args()
    if args.torch_threads is not None:
        import torch

        torch.set_num_threads(args.torch_threads)

    from jiema_segment import Segmenter

    source = (args.data / "pku_test.utf8").read_text(encoding="utf-8")
    unit = "".join(source.split())
    text = (unit * (args.chars // len(unit) + 1))[: args.chars]
    lines = [text[i : i + LINE_CHARS] for i in range(0, len(text), LINE_CHARS)]
    print(f"{len(text):,} characters; short lines of {LINE_CHARS}")
    print("| mode | one line chars/s | short lines chars/s | ratio | text kept | peak RSS MB |")
    print("|---|---:|---:|---:|---|---:|")
    for mode in args.modes.split(","):
        seg = Segmenter(mode=mode)
        seg.cut("预热一下，compile the kernels。")
        t_one, one = best_time(lambda seg=seg: seg.cut(text), args.repeat)
        t_short, _ = best_time(lambda seg=seg: list(seg.cut_lines(lines)), args.repeat)
        whole = "".join(one) == text  # type: ignore[arg-type]
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"| {mode} | {len(text) / t_one:,.0f} | {len(text) / t_short:,.0f} | "
              f"{t_short / t_one:.2f} | {whole} | {rss:,.0f} |")


if __name__ == "__main__":
    main()
