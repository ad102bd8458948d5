"""Each found line read both ways — glyphs cut and classified, and whole by the CTC line
recogniser — keeping the reading whose reader is surer of it (the higher mean per-character
confidence; on a tie, the cut-and-classify reading).

Why both: the two fail on different lines. Cutting wins on clean renders in its training fonts
(it reads them at 0.6-0.8% CER, the line recogniser at 3-4%), the line recogniser where cutting
breaks: small screen text, tight or proportional glyphs (the shared news screenshot: 176 errors
cut, 84 whole). Measured on 240 rendered lines (benchmark-style lines, dev seed 103, and clean
13-20 px lines): CER cut 1.58%, line recogniser 4.03%, the surer of the two 1.27%; a margin in
favour of either reader (+-0.02 to +-0.2) did no better, so there is none. Measured only, never
tuned on: `../shared/data/ocr_real_dev` CER cut 22.7%, line recogniser 12.0%, surer 14.5% (the
cut reader is overconfident on the news screenshot's small glyphs).
"""

from __future__ import annotations

import time
from typing import Any

from .analysis import analyse
from .results import LineResult, OcrResult


class SurerReader:
    """Reads images like `pipeline.OcrReader`; both readers share the image stages (those of
    the cut-and-classify reader) and its odd-line filter."""

    def __init__(self, cut_reader: Any, line_reader: Any) -> None:
        self.cut_reader = cut_reader
        self.line_reader = line_reader
        self.options = cut_reader.options
        self.stages = cut_reader.stages

    @property
    def decoder(self) -> Any:
        """The LM decoder the two halves share (the cut-and-classify half's)."""
        return self.cut_reader.decoder

    def __call__(self, source: Any) -> OcrResult:
        return self.read(source)

    def read(self, source: Any) -> OcrResult:
        """An `OcrResult` for one image (path, bytes, PIL image or array)."""
        timings: dict[str, float] = {}
        return self.read_analysis(analyse(source, self.options, timings, self.stages), timings)

    def read_analysis(self, analysis: Any, timings: dict[str, float] | None = None
                      ) -> OcrResult:
        timings = {} if timings is None else timings
        out = []
        for line in analysis.lines:
            cut = self.cut_reader.read_line(analysis, line, timings)
            t0 = time.perf_counter()
            whole = self.line_reader.read_line(analysis, line)
            timings["recognise"] = timings.get("recognise", 0.0) + time.perf_counter() - t0
            surer = surer_reading(cut, whole)
            if surer is not None:
                out.append(surer)
        return analysis.in_input(OcrResult(self.cut_reader.drop_odd_lines(out), timings))


def surer_reading(cut: LineResult | None, whole: LineResult | None) -> LineResult | None:
    """The reading with the higher confidence (the cut one on a tie; None when neither read)."""
    if cut is None or whole is None:
        return cut if whole is None else whole
    return whole if whole.confidence > cut.confidence else cut
