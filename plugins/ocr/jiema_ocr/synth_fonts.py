"""The fonts training lines are drawn in: every CJK family whose licence allows shipping weights
trained on its renders, each recorded with its Debian package and licence for the model card,
and a named deny list of the typefaces withheld for measurement, which discovery drops by file
name and by face name even where they are installed.

Only recorded families are used (a font with no licence record never slips in); fonts a caller
adds by path (`extra`) pass the deny list too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .glyphs import _find_file
from .synth import Font

FONT_DIRS = ("/usr/share/fonts",)
WITHHELD_REASON = ("withheld for measuring how a reader does on typefaces it never saw "
                   "(shared/data/README.md): no training data may use it")
#: The withheld typefaces, as the squashed (lower case, no spaces, dashes or underscores) names
#: of their families, files and packages; any variant (Lite, Screen, Mono, TC, GB/Big5) shares
#: the stem, so a name *containing* one of these is withheld.
WITHHELD: dict[str, tuple[str, ...]] = {
    "LXGW WenKai": ("lxgwwenkai", "霞鹜文楷"),
    "AR PL SungtiL GB": ("arplsungtil", "gbsn00lp"),
    "AR PL KaitiM GB": ("arplkaitim", "gkai00mp"),
    "Droid Sans Fallback": ("droidsansfallback", "fontsdroidfallback"),
}

OFL = "SIL Open Font License 1.1"


@dataclass(frozen=True)
class FontFamily:
    """One font family (one style of it in each file), with what the card needs to name it."""

    family: str
    package: str  # Debian package that installs it
    licence: str
    files: tuple[tuple[str, int], ...]  # (file name, face index of the simplified-Chinese face)


def _noto(kind: str, weights: Sequence[str], sc_index: int = 2) -> tuple[tuple[str, int], ...]:
    return tuple((f"Noto{kind}CJK-{w}.ttc", sc_index) for w in weights)


#: Every family the line renderer may draw with. Noto Regular and Bold come with fonts-noto-cjk,
#: the other weights with fonts-noto-cjk-extra. The face index picks the SC face of a collection.
TRAINING_FAMILIES: tuple[FontFamily, ...] = (
    FontFamily("Noto Sans CJK SC", "fonts-noto-cjk / fonts-noto-cjk-extra", OFL,
               _noto("Sans", ("Thin", "Light", "DemiLight", "Regular", "Medium", "Bold",
                              "Black"))),
    FontFamily("Noto Serif CJK SC", "fonts-noto-cjk / fonts-noto-cjk-extra", OFL,
               _noto("Serif", ("ExtraLight", "Light", "Regular", "Medium", "SemiBold", "Bold",
                               "Black"))),
    FontFamily("Noto Sans Mono CJK SC", "fonts-noto-cjk", OFL,
               _noto("Sans", ("Regular", "Bold"), sc_index=7)),
    FontFamily("WenQuanYi Micro Hei", "fonts-wqy-microhei",
               "Apache-2.0 or GPL-3+ with font exception", (("wqy-microhei.ttc", 0),)),
    FontFamily("WenQuanYi Zen Hei", "fonts-wqy-zenhei",
               "GPL-2 with font embedding exception", (("wqy-zenhei.ttc", 0),)),
    FontFamily("AR PL UMing CN", "fonts-arphic-uming", "Arphic Public License",
               (("uming.ttc", 0),)),
    FontFamily("AR PL UKai CN", "fonts-arphic-ukai", "Arphic Public License",
               (("ukai.ttc", 0),)),
    FontFamily("Smiley Sans Oblique", "fonts-smiley-sans", OFL,
               (("SmileySans-Oblique.ttf", 0),)),
)


def _squash(name: str) -> str:
    return re.sub(r"[\s\-_.]+", "", name.lower())


def withheld_reason(*names: str) -> str | None:
    """Why a font with any of these names (family, face, file or package name) must not be
    used, or None when it may."""
    for name in names:
        squashed = _squash(name)
        for family, stems in WITHHELD.items():
            if any(stem in squashed for stem in stems):
                return f"{family}: {WITHHELD_REASON}"
    return None


def face_names(path: str, index: int) -> tuple[str, ...]:
    """The family and full names a face declares (fontTools; nothing is rendered)."""
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=index, lazy=True)
    try:
        table = font["name"]
        return tuple(str(n) for n in (table.getDebugName(1), table.getDebugName(4),
                                      table.getDebugName(16)) if n)
    finally:
        font.close()


def allowed(fonts: Iterable[Font]) -> list[Font]:
    """`fonts` less the withheld typefaces, judged by file name first (no file is opened for
    those), then by the names the face declares."""
    out = []
    for font in fonts:
        if withheld_reason(Path(font.path).name, font.name):
            continue
        if Path(font.path).is_file() and withheld_reason(*face_names(font.path, font.index)):
            continue
        out.append(font)
    return out


def training_fonts(dirs: Sequence[str] = FONT_DIRS, extra: Sequence[str] = ()) -> list[Font]:
    """The installed faces of `TRAINING_FAMILIES` (one per file), plus `extra` font files (or
    the JIEMA_OCR_TRAIN_FONTS list, paths separated by the path separator), never a withheld
    typeface. Empty when none is installed: callers fail clearly."""
    found = []
    for fam in TRAINING_FAMILIES:
        for file, index in fam.files:
            path = _find_file(file, dirs)
            if path is not None:
                stem = Path(file).stem
                style = stem.rsplit("-", 1)[1] if "-" in stem and "wqy" not in stem else "Regular"
                found.append(Font(f"{fam.family} {style}", str(path), index))
    listed = list(extra) or [p for p in os.environ.get("JIEMA_OCR_TRAIN_FONTS", "").split(
        os.pathsep) if p]
    found += [Font(Path(p).stem, p, 0) for p in listed]
    return allowed(found)


def packages(fonts: Iterable[Font]) -> list[str]:
    """The Debian packages the given fonts come from (for the card's software versions)."""
    out: list[str] = []
    for fam in TRAINING_FAMILIES:
        if any(f.name.startswith(fam.family + " ") for f in fonts):
            for pkg in fam.package.split(" / "):
                if pkg not in out:
                    out.append(pkg)
    return out


def card_text(fonts: Iterable[Font]) -> str:
    """The fonts as a model card names them: family (package; licence), one per family."""
    fonts = list(fonts)
    parts = [f"{fam.family} ({fam.package}; {fam.licence})" for fam in TRAINING_FAMILIES
             if any(f.name.startswith(fam.family + " ") for f in fonts)]
    known = {f.name for f in fonts if any(f.name.startswith(fam.family + " ")
                                          for fam in TRAINING_FAMILIES)}
    parts += [f"{f.name} ({f.path}; licence not recorded)" for f in fonts if f.name not in known]
    return "; ".join(parts)
