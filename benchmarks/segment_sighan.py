"""Dictionary and FCN segmentation on the SIGHAN 2005 PKU test, side by side with jieba; and
word lists of other standards (CityU, MSR) given as the user's list.

    python benchmarks/segment_sighan.py [--data ../shared/data/icwb2] [--repeat 3]
        [--fcn-model PATH] [--hard-default F] [--no-fcn] [--lists-only]

Rows: dictionary mode, FCN mode (the shipped pd98-fcn or --fcn-model; with a model that carries a
training lexicon, also the network alone, --no-lexicon), FCN + hard decoding with
`pku_training_words` as a plain word list (factor --hard-default), jieba. With FCN, the MSR test
text is also cut with `msr_training_words` as the hard list, reporting how many output words
are in that list (its gold is not available).

Word lists (the "lists" table, also alone with --lists-only): for each standard whose test text
is in --data (CityU simplified, MSR), its training word list is given as the user's list, the way
`jiema segment --mode fcn --hard-dict WORDS FILE` does with no other flag; rows: fcn without the
list, fcn + list, dict mode + list as --user-dict, and forward maximum matching with the list.
F (official perl script) where the gold is there; always the share of output words (and of
words of two or more characters) that are in the list.

Accuracy: the official perl `score` script and `jiema eval segment` on the same output (both
must agree). Speed: characters per second over the whole test text, best of --repeat runs,
jiema dictionary mode and jieba (precise mode, HMM on) interleaved in one process. Load time:
building the Segmenter (shipped dictionary + automaton) and the first decode (Numba kernel from
its cache), measured in a fresh process.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/icwb2"

LOAD_SNIPPET = """
import time
t0 = time.perf_counter()
from jiema_segment import Segmenter
seg = Segmenter()
t1 = time.perf_counter()
seg.cut("北京大学生前来应聘")
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


# (name, test text, gold or None, training word list) of the standards the lists table reads
LIST_STANDARDS = (
    ("CityU (simplified)", "cityu_test.simplified.utf8", "cityu_test_gold.simplified.utf8",
     "cityu_training_words.simplified.utf8"),
    ("MSR", "msr_test.utf8", "msr_test_gold.utf8", "msr_training_words.utf8"),
)


def perl_score(data: Path, pred: Path, words: str = "pku_training_words.utf8",
               gold: str = "pku_test_gold.utf8") -> dict[str, str]:
    if shutil.which("perl") is None:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            ["perl", str(data / "score"), str(data / words), str(data / gold), str(pred)],
            capture_output=True, check=True, cwd=tmp,
        ).stdout.decode("utf-8", "replace")
    fields = {}
    for line in out.splitlines():
        if line.startswith("=== ") and ":\t" in line:
            key, _, value = line[4:].partition(":\t")
            fields[key] = value
    return fields


def jiema_score(data: Path, pred: Path) -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "jiema", "eval", "segment", "--gold",
         str(data / "pku_test_gold.utf8"), "--words", str(data / "pku_training_words.utf8"),
         str(pred)],
        capture_output=True, check=True,
    ).stdout.decode("utf-8")
    pairs = (line[4:].partition(":\t") for line in out.splitlines() if ":\t" in line)
    return {key: value for key, _, value in pairs}


def forward_max_match(line: str, words: set[str], longest: int) -> list[str]:
    """The plain baseline: at each position the longest listed word, else one character."""
    out, i = [], 0
    while i < len(line):
        for n in range(min(longest, len(line) - i), 0, -1):
            if n == 1 or line[i : i + n] in words:
                out.append(line[i : i + n])
                i += n
                break
    return out


def lists_table(data: Path, fcn_model: object, fcn_kw: dict) -> None:
    """F and in-list share of fcn, fcn + list, dict + list and max-match per standard's list."""
    import re

    from jiema_segment import Segmenter

    print("\nWord lists of other standards as the user's list (`--hard-dict WORDS`):\n")
    print("| standard | segmenter | F (perl) | output words in the list | words of 2+ chars |")
    print("|---|---|---|---|---|")
    for name, test, gold, words_file in LIST_STANDARDS:
        if not (data / test).is_file():
            continue
        lines = (data / test).read_text(encoding="utf-8").splitlines()
        listed = [w.strip() for w in (data / words_file).read_text(encoding="utf-8").splitlines()]
        words = {w for w in listed if w}
        longest = max(len(w) for w in words)
        runs: dict[str, object] = {}
        if fcn_model is not None:
            runs["fcn"] = Segmenter(mode="fcn", model=fcn_model, **fcn_kw)
            runs["fcn + list"] = Segmenter(mode="fcn", model=fcn_model,
                                           hard=data / words_file, **fcn_kw)
        runs["dict + list (--user-dict)"] = Segmenter(mode="dict", user_dict=data / words_file)
        for label, seg in [*runs.items(), ("forward max-match", None)]:
            if seg is None:
                cut = [[w for piece in re.split(r"\s+", line) if piece
                        for w in forward_max_match(piece, words, longest)] for line in lines]
            else:
                cut = [[w for w in ws if not w.isspace()]
                       for ws in seg.cut_lines(lines)]  # type: ignore[attr-defined]
            flat = [w for ws in cut for w in ws]
            multi = [w for w in flat if len(w) > 1]
            f = "n/a (no gold)"
            if (data / gold).is_file():
                with tempfile.TemporaryDirectory() as tmp:
                    pred = Path(tmp) / "pred.txt"
                    pred.write_text("".join(" ".join(ws) + "\n" for ws in cut), encoding="utf-8")
                    f = perl_score(data, pred, words_file, gold).get("F MEASURE", "n/a (no perl)")
            print(f"| {name} | {label} | {f} | {sum(w in words for w in flat) / len(flat):.2%} "
                  f"| {sum(w in words for w in multi) / len(multi):.2%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fcn-model", default=None, help="default: the shipped pd98-fcn")
    parser.add_argument("--hard-default", type=float, default=None,
                        help="factor of the plain hard-decoding word list (default: the shipped)")
    parser.add_argument("--precision", choices=["auto", "float32", "bfloat16"], default="auto",
                        help="fcn networks' arithmetic (auto: bfloat16 where the CPU has it)")
    parser.add_argument("--networks", type=int, default=None,
                        help="decode with only the first N networks of the fcn model")
    parser.add_argument("--no-fcn", action="store_true")
    parser.add_argument("--lists-only", action="store_true",
                        help="only the table of other standards' word lists")
    args = parser.parse_args()
    data: Path = args.data.resolve()  # the perl scorer runs in a scratch folder
    if args.lists_only:
        from jiema_segment.fcn.tagger import model_path_default

        model = args.fcn_model or (model_path_default() if model_path_default().is_file()
                                   else None)
        lists_table(data, None if args.no_fcn else model,
                    {"precision": args.precision, "networks": args.networks,
                     "hard_default": args.hard_default})
        return
    if not (data / "pku_test.utf8").is_file():
        sys.exit(f"PKU test data not found under {data} (pass --data)")
    lines = (data / "pku_test.utf8").read_text(encoding="utf-8").splitlines()
    n_chars = sum(len(line) for line in lines)

    load_s, first_s = map(float, subprocess.run(
        [sys.executable, "-c", LOAD_SNIPPET], capture_output=True, check=True, text=True
    ).stdout.split())

    from jiema_segment import Segmenter
    from jiema_segment.fcn.tagger import model_path_default

    seg = Segmenter()
    seg.cut("预热")
    runners: dict[str, object] = {"jiema": seg}
    labels = {"jiema": "jiema dict mode (pd98-dict)", "jieba": "jieba 0.42 precise, HMM on"}
    fcn_model = args.fcn_model or (model_path_default() if model_path_default().is_file() else None)
    fcn_load = None
    if fcn_model is not None and not args.no_fcn:
        t0 = time.perf_counter()
        fcn_kw = {"precision": args.precision, "networks": args.networks}
        fcn = Segmenter(mode="fcn", model=fcn_model, **fcn_kw)
        fcn.cut("预热")
        fcn_load = time.perf_counter() - t0
        hard = Segmenter(mode="fcn", model=fcn_model, hard_default=args.hard_default,
                         hard=data / "pku_training_words.utf8", **fcn_kw)
        hard.cut("预热")
        members = len(fcn.tagger.networks)
        name = Path(fcn_model).stem + (f", {members}-network ensemble" if members > 1 else "")
        name += f", {fcn.tagger.precision}"
        if fcn.tagger.lexicon:
            bare = Segmenter(mode="fcn", model=fcn_model, lexicon=False, **fcn_kw)
            bare.cut("预热")
            runners["fcn-net"] = bare
            labels["fcn-net"] = f"jiema fcn mode ({name}), network only (--no-lexicon)"
        runners["fcn"] = fcn
        runners["fcn+hard"] = hard
        labels["fcn"] = f"jiema fcn mode ({name}" + (", with its lexicon)" if fcn.tagger.lexicon
                                                      else ")")
        labels["fcn+hard"] = (f"jiema fcn ({name}) + hard pku_training_words "
                              f"(x{hard.hard_default:g})")

    import jieba

    jieba.setLogLevel(60)
    t0 = time.perf_counter()
    jieba.initialize()
    jieba_load = time.perf_counter() - t0

    def run_with(segmenter: object):
        def run() -> list[list[str]]:
            return [[w for w in words if not w.isspace()]
                    for words in segmenter.cut_lines(lines)]  # type: ignore[attr-defined]
        return run

    def run_jieba() -> list[list[str]]:
        return [[w for w in jieba.cut(line, HMM=True) if not w.isspace()] for line in lines]

    fns = {name: run_with(s) for name, s in runners.items()}
    fns["jieba"] = run_jieba
    best = {name: float("inf") for name in fns}
    outputs: dict[str, list[list[str]]] = {}
    for _ in range(args.repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            outputs[name] = fn()
            best[name] = min(best[name], time.perf_counter() - t0)

    from jiema_segment.score import score_files

    # the targets sit on the third digit, which the official script rounds to
    gold, pku_words = data / "pku_test_gold.utf8", data / "pku_training_words.utf8"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in fns:
            pred = Path(tmp) / f"{name}.txt"
            pred.write_text("".join(" ".join(ws) + "\n" for ws in outputs[name]), encoding="utf-8")
            perl = perl_score(data, pred)
            ours = jiema_score(data, pred)
            ours["F4"] = f"{score_files(gold, pku_words, pred).f:.4f}"
            rows.append((name, perl, ours, n_chars / best[name]))

    print(f"PKU test: {len(lines)} lines, {n_chars} characters; best of {args.repeat} runs\n")
    head = ("segmenter", "F (perl)", "F (jiema eval)", "F, 4 digits", "P", "R", "OOV rate",
            "OOV recall", "IV recall", "chars/s", "x jieba")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    jieba_speed = rows[-1][3]
    for name, perl, ours, speed in rows:
        f_perl = perl.get("F MEASURE", "n/a (no perl)")
        print("| " + " | ".join((
            labels[name], f_perl, ours["F MEASURE"], ours["F4"], ours["TOTAL TEST WORDS PRECISION"],
            ours["TOTAL TRUE WORDS RECALL"], ours["OOV Rate"], ours["OOV Recall Rate"],
            ours["IV Recall Rate"], f"{speed:,.0f}", f"{speed / jieba_speed:.2f}",
        )) + " |")
        if perl:
            keys = ("F MEASURE", "TOTAL TEST WORDS PRECISION", "TOTAL TRUE WORDS RECALL",
                    "OOV Rate", "OOV Recall Rate", "IV Recall Rate")
            differ = [k for k in keys if perl[k] != ours[k]]
            if differ:
                print(f"  !! {name}: jiema eval differs from perl on {differ}")
    print(f"\nload: jiema Segmenter() {load_s:.3f} s + first decode {first_s:.3f} s "
          f"(fresh process); jieba.initialize() {jieba_load:.3f} s (from its cache)")
    if fcn_load is not None:
        print(f"load: jiema Segmenter(mode='fcn') + first decode {fcn_load:.3f} s "
              "(in this process, torch import included)")
        msr = data / "msr_test.utf8"
        if msr.is_file():
            msr_words = set(
                (data / "msr_training_words.utf8").read_text(encoding="utf-8").split()
            )
            msr_lines = msr.read_text(encoding="utf-8").splitlines()

            def cut_msr(segmenter: Segmenter) -> list[list[str]]:
                return [[w for w in ws if not w.isspace()] for ws in segmenter.cut_lines(msr_lines)]

            def share(cut: list[list[str]]) -> str:
                words = [w for ws in cut for w in ws]
                multi = [w for w in words if len(w) > 1]
                inside, inside_multi = sum(w in msr_words for w in words), sum(
                    w in msr_words for w in multi)
                return (f"{inside}/{len(words)} output words ({inside / len(words):.2%}; words of "
                        f"2+ characters {inside_multi / len(multi):.2%}) are in the list")

            plain = cut_msr(runners["fcn"])  # type: ignore[arg-type]
            print(f"MSR test, FCN without the list: {share(plain)}")
            for lexicon in (True, False) if fcn.tagger.lexicon else (False,):
                msr_seg = Segmenter(mode="fcn", model=fcn_model, hard_default=args.hard_default,
                                    hard=data / "msr_training_words.utf8", lexicon=lexicon,
                                    **fcn_kw)
                cut = cut_msr(msr_seg)
                changed = sum(a != b for a, b in zip(plain, cut, strict=True))
                print(f"MSR test with msr_training_words as the hard list"
                      f"{' (--no-lexicon)' if fcn.tagger.lexicon and not lexicon else ''}: "
                      f"{share(cut)}; {changed}/{len(cut)} lines differ from the FCN without it")
    lists_table(data, None if args.no_fcn else fcn_model,
                {"precision": args.precision, "networks": args.networks,
                 "hard_default": args.hard_default})


if __name__ == "__main__":
    main()
