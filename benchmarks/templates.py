"""Word discovery, template discovery and template parsing, jiema against nlp-zero in one run.

    python benchmarks/templates.py [--data ../shared/data] [--lines N] [--parse-sentences N]
        [--nz-parse-sentences N] [--nz-timeout S] [--no-dask] [--repeat N]

Corpus: People's Daily 1998-01 (`corpora/peoples_daily_199801.txt`), each line's words joined
back into raw text. Rows:

- word discovery at min_proba=1e-5, min_pmi=1 (nlp-zero `Word_Finder.train` + `find`): best
  time of --repeat runs of each, chars/s, and the agreement of the two word tables (Jaccard of
  the word sets, share of common words with equal counts, exact equality);
- the same on Dask: a 2-worker LocalCluster (processes, one thread each), results compared with
  the in-process ones, time with the cluster already started;
- template discovery with nlp-zero's defaults (window 5, min_proba 1e-5, min_pmi 2), each
  library with its own tokenizer from its own word table: time, chars/s, templates (Jaccard);
- parsing with all discovered templates: jiema over --parse-sentences sentences; nlp-zero over
  --nz-parse-sentences of them, each stopped after --nz-timeout seconds (its parser is
  exponential), chars/s over the sentences it finished;
- PKU test (SIGHAN 2005) F of the discovered-dictionary tokenizer (unsupervised), scored by the
  port of the official `score` script in `jiema_segment.score`, for jiema and nlp-zero.
Other timings are wall-clock, one run each (nlp-zero is slow); Numba kernels compiled beforehand.
"""

from __future__ import annotations

import argparse
import collections
import collections.abc
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data"


def load_corpus(data: Path, lines: int | None) -> list[str]:
    from jiema.corpus import parse_pd_line, read_lines

    texts = []
    for rec in read_lines(data / "corpora/peoples_daily_199801.txt"):
        text = "".join(parse_pd_line(rec.text))
        if text:
            texts.append(text)
        if lines and len(texts) >= lines:
            break
    return texts


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def jaccard(a: set, b: set) -> float:
    return len(a & b) / max(len(a | b), 1)


class _Timeout(Exception):
    pass


def _alarm(signum, frame):  # noqa: ARG001
    raise _Timeout


def pku_f(data: Path, cut) -> float | None:
    from jiema_segment.score import score_files

    icwb = data / "icwb2"
    if not (icwb / "pku_test.utf8").is_file():
        return None
    lines = (icwb / "pku_test.utf8").read_text(encoding="utf-8").splitlines()
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        for line in lines:
            f.write("  ".join(w for w in cut(line) if not w.isspace()) + "\n")
        pred = f.name
    return score_files(icwb / "pku_test_gold.utf8", icwb / "pku_training_words.utf8", pred).f


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--lines", type=int, default=None, help="use the first N lines only")
    parser.add_argument("--parse-sentences", type=int, default=20000)
    parser.add_argument("--nz-parse-sentences", type=int, default=300)
    parser.add_argument("--nz-timeout", type=float, default=2.0)
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--repeat", type=int, default=3,
                        help="word discovery: best of this many runs of each library")
    args = parser.parse_args()
    if not (args.data / "corpora/peoples_daily_199801.txt").is_file():
        sys.exit(f"no People's Daily corpus under {args.data}")
    if not hasattr(collections, "Iterable"):
        collections.Iterable = collections.abc.Iterable  # nlp-zero 0.1.6 on Python >= 3.10
    import nlp_zero as nz
    from jiema_templates import Parser, discover_templates, discover_words

    texts = load_corpus(args.data, args.lines)
    chars = sum(map(len, texts))
    print(f"corpus: {len(texts)} lines, {chars} chars (People's Daily 1998-01, raw text)")
    warm = discover_words(texts[:200], min_proba=1e-5)  # compile the Numba kernels
    Parser(discover_templates(texts[:200], warm.tokenizer()), warm.tokenizer()).parse_many(
        texts[:20])
    rows: list[tuple[str, str, str, str]] = []

    # --- word discovery (best of --repeat runs each: a run is short, the machine is shared)
    t_j = t_nz = float("inf")
    for _ in range(args.repeat):
        table, t = timed(discover_words, texts, min_proba=1e-5, min_pmi=1)
        t_j = min(t_j, t)
        finder = nz.Word_Finder(min_proba=1e-5, min_pmi=1)
        _, t = timed(lambda f=finder: (f.train(texts), f.find(texts)))
        t_nz = min(t_nz, t)
    ours, theirs = table.counts, dict(finder.words)
    common = set(ours) & set(theirs)
    same = sum(ours[w] == theirs[w] for w in common)
    rows.append(("word discovery", f"{t_j:.2f} s ({chars / t_j:,.0f} chars/s)",
                 f"{t_nz:.2f} s ({chars / t_nz:,.0f} chars/s)", f"x{t_nz / t_j:.1f}"))
    agreement = (f"Jaccard {jaccard(set(ours), set(theirs)):.4f}, equal counts "
                 f"{same}/{len(common)}, identical tables: {ours == theirs}")
    multi = sum(len(w) > 1 for w in ours)
    print(f"words: jiema {len(ours)} ({multi} multi-char), nlp-zero {len(theirs)}; {agreement}")

    # --- Dask
    dask_line = "skipped"
    if not args.no_dask:
        import distributed

        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            discover_words(texts[:200], min_proba=1e-5, backend="dask", scheduler=client)
            remote, t_d = timed(discover_words, texts, min_proba=1e-5, min_pmi=1,
                                backend="dask", scheduler=client, partition_size=2000)
        ident = remote.counts == ours and remote.strong_pairs == table.strong_pairs
        dask_line = f"{t_d:.2f} s ({chars / t_d:,.0f} chars/s), identical to local: {ident}"
        rows.append(("word discovery, Dask 2 workers", f"{t_d:.2f} s", "-", f"same: {ident}"))

    # --- template discovery
    tok = table.tokenizer()
    found, t_tj = timed(discover_templates, texts, tok)
    nz_tok = finder.export_tokenizer()
    tfinder = nz.Template_Finder(nz_tok.tokenize)
    _, t_tnz = timed(lambda: (tfinder.train(texts), tfinder.find(texts)))
    mine_c = {str(t): c for t, c in found.counts.items()}
    theirs_c = {"".join(w if w else "[X]" for w in t.words): c
                for t, c in tfinder.templates.items()}
    mine, theirs_t = set(mine_c), set(theirs_c)
    rows.append(("template discovery", f"{t_tj:.2f} s ({chars / t_tj:,.0f} chars/s)",
                 f"{t_tnz:.2f} s ({chars / t_tnz:,.0f} chars/s)", f"x{t_tnz / t_tj:.1f}"))
    nontrivial = sum(not t.is_trivial() for t in found.counts)
    print(f"templates: jiema {len(found)} ({nontrivial} non-trivial), nlp-zero {len(theirs_t)}, "
          f"Jaccard {jaccard(mine, theirs_t):.4f}, identical counts: {mine_c == theirs_c}")

    # --- parsing, all templates
    sentences = [s for t in texts for s in re.split("(?<=[。！？；])", t) if s]
    sentences = sentences[: args.parse_sentences]
    p = Parser(found, tok)
    p.parse_many(sentences[:20])
    trees, t_p = timed(p.parse_many, sentences)
    pchars = sum(map(len, sentences))
    nz_parser = nz.Parser(nz.XTrie(tfinder.templates.items()), nz_tok.tokenize)
    done = done_chars = timeouts = 0
    spent = 0.0
    old = signal.signal(signal.SIGALRM, _alarm)
    for s in sentences[: args.nz_parse_sentences]:
        t0 = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, args.nz_timeout)
        try:
            nz_parser.parse(s)
            done += 1
            done_chars += len(s)
            spent += time.perf_counter() - t0
        except (_Timeout, RecursionError):
            timeouts += 1
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, old)
    nz_rate = done_chars / spent if spent else float("nan")
    rows.append(("parsing, all templates", f"{pchars / t_p:,.0f} chars/s ({len(sentences)} sent.)",
                 f"{nz_rate:,.0f} chars/s ({done} sent., {timeouts} > {args.nz_timeout:g} s)",
                 f"x{pchars / t_p / nz_rate:.0f}" if done else "-"))
    print(f"parse example: {trees[0]}")

    # --- PKU F
    f_j = pku_f(args.data, table.tokenizer(runs="core").cut)
    f_nz = pku_f(args.data, nz_tok.tokenize)
    if f_j is not None:
        rows.append(("PKU test F, discovered dictionary", f"{f_j:.4f}", f"{f_nz:.4f}", ""))

    width = [max(len(r[i]) for r in rows + [("what", "jiema", "nlp-zero", "ratio")])
             for i in range(4)]
    head = ("what", "jiema", "nlp-zero 0.1.6", "speed-up")
    print()
    print(" | ".join(h.ljust(w) for h, w in zip(head, width, strict=True)))
    print("-|-".join("-" * w for w in width))
    for r in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(r, width, strict=True)))
    print(f"\nword tables: {agreement}")
    print(f"Dask: {dask_line}")


if __name__ == "__main__":
    main()
