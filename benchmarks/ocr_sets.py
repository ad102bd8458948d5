"""The OCR benchmark's evaluation sets beyond today's lines and banners: real images, lines in
the withheld typefaces, screen-size UI text, photographed lines and posters.

Everything here is independent of the OCR plugin's training renderers (`jiema_ocr.synth*`,
`jiema_ocr.glyphs`): its own text templates, its own drawing, its own font list, so a training
change cannot quietly make the test look like the training data. Text comes from the SIGHAN PKU
*test* text (the LM never saw it) and from templates that put Latin words, numbers, prices,
dates, phone numbers and URLs inside Chinese text.

The withheld typefaces are never installed system-wide (font discovery must not find them for
training): `fetch_withheld_fonts` downloads their Debian packages into a cache folder and
extracts them there, and the benchmark loads the files by path.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from jiema_ocr.cer import cer_text

PKU_TEST = "icwb2/pku_test.utf8"
REAL_DEV = "ocr_real_dev"
FONT_CACHE = Path(os.environ.get("JIEMA_BENCH_FONTS",
                                 Path.home() / ".cache" / "jiema-bench" / "fonts"))

#: The withheld typefaces (DEVELOPERS.md): Debian package, file inside it, face index.
WITHHELD_FONTS: tuple[tuple[str, str, int], ...] = (
    ("fonts-lxgw-wenkai", "usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf", 0),
    ("fonts-arphic-gbsn00lp", "usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf", 0),
    ("fonts-arphic-gkai00mp", "usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf", 0),
    ("fonts-droid-fallback", "usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
)
#: Faces the screen and photo sets draw with: the training fonts (the four Debian families
#: today; Noto CJK SC, which the training data adds, when installed). Missing ones are skipped.
TRAINING_FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # face 2: SC
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
)

# How the sets look. Chosen by hand; every set (fixed seed) depends on each.
WITHHELD_SIZES = (24, 48)  # px, inclusive
SCREEN_SIZES = (12, 20)  # px, inclusive: UI text
SCREEN_PAD = (3, 10)  # px around screen text (integers, inclusive), as in a cropped UI element
PHOTO_SIZES = (28, 44)
PHOTO_ROTATION = 6.0  # degrees, either way
PHOTO_CORNER_JITTER = 0.06  # perspective: corners move up to this x the image's height
PHOTO_SHEAR = 0.15  # horizontal shear, either way
PHOTO_LIGHT = (0.45, 1.0)  # darkest and brightest light factor across the image
PHOTO_BLUR = (0.3, 1.4)  # Gaussian blur radius, px
PHOTO_JPEG = (25, 75)  # JPEG quality
PHOTO_NOISE = 6.0  # grey-level noise sigma
MIXED_SHARE = 0.4  # share of b-d lines from the mixed-text templates
MIN_LUMA_GAP = 100  # text and ground of every colour pair differ at least this much

#: UI colour pairs (text, ground) as screens show them: body text, muted text, links, buttons,
#: dark mode, notices.
UI_COLOURS: tuple[tuple[tuple[int, int, int], tuple[int, int, int]], ...] = (
    ((0, 0, 0), (255, 255, 255)),
    ((51, 51, 51), (255, 255, 255)),
    ((96, 96, 96), (250, 250, 250)),
    ((33, 37, 41), (248, 249, 250)),
    ((0, 102, 204), (255, 255, 255)),
    ((26, 13, 171), (255, 255, 255)),
    ((255, 255, 255), (0, 122, 255)),
    ((255, 255, 255), (220, 53, 69)),
    ((255, 255, 255), (40, 167, 69)),
    ((255, 255, 255), (24, 144, 255)),
    ((230, 230, 230), (30, 30, 30)),
    ((212, 212, 212), (37, 37, 38)),
    ((255, 255, 255), (51, 51, 51)),
    ((133, 100, 4), (255, 243, 205)),
    ((114, 28, 36), (248, 215, 218)),
    ((0, 0, 0), (255, 250, 230)),
)


@dataclass
class Item:
    """One benchmark image: RGB pixels, its text (lines joined by newlines)."""

    image: np.ndarray
    text: str
    lines: list[str] = field(default_factory=list)
    name: str = ""


# ------------------------------------------------------------------ text
def text_chunks(data: Path, n: int, rng: np.random.Generator, lo: int = 6,
                hi: int = 16) -> list[str]:
    """`n` pieces of `lo`-`hi` characters from the PKU test paragraphs (random paragraphs)."""
    path = data / PKU_TEST
    if not path.is_file():
        sys.exit(f"{path} is missing: set JIEMA_DATA to the shared data folder")
    paras = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    out: list[str] = []
    order = rng.permutation(len(paras))
    for k in order:
        p = paras[k]
        if len(p) < lo:
            continue
        size = int(rng.integers(lo, hi + 1))
        start = int(rng.integers(0, max(1, len(p) - size)))
        chunk = p[start:start + size].strip()
        if len(cer_text(chunk)) >= lo // 2:
            out.append(chunk)
        if len(out) >= n:
            break
    return out


_WORDS = ("iPhone", "Windows", "WiFi", "Python", "App", "VIP", "CEO", "GDP", "NBA", "Excel",
          "USB", "Logo", "PDF", "Email", "Google", "Linux", "GPS", "PM2.5", "5G", "AI")
_DOMAINS = ("www.gov.cn", "news.sina.com.cn", "github.com/jiema", "www.example.org/a/b",
            "m.jd.com", "https://www.baidu.com", "http://bbs.tianya.cn/post-1.shtml")
_UNITS = ("元", "万元", "公斤", "公里", "小时", "%", "℃", "GB", "mm", "次")


def _fill(slot: str, rng: np.random.Generator) -> str:
    pick = rng.integers
    if slot == "word":
        return _WORDS[int(pick(len(_WORDS)))]
    if slot == "price":
        yuan = int(pick(1, 10000))
        return rng.choice([f"¥{yuan}", f"{yuan}.{int(pick(100)):02d}元", f"￥{yuan}.00",
                           f"{yuan}元/月"])
    if slot == "date":
        y, m, d = int(pick(1990, 2031)), int(pick(1, 13)), int(pick(1, 29))
        return rng.choice([f"{y}年{m}月{d}日", f"{y}-{m:02d}-{d:02d}", f"{y}/{m}/{d}",
                           f"{m}月{d}日{int(pick(24)):02d}:{int(pick(60)):02d}"])
    if slot == "phone":
        return rng.choice([f"1{int(pick(30, 90))}{int(pick(10**8)):08d}",
                           f"010-{int(pick(10**8)):08d}", f"400-{int(pick(1000)):03d}-"
                           f"{int(pick(10000)):04d}", f"({int(pick(20, 1000)):03d})"
                           f"{int(pick(10**7)):07d}"])
    if slot == "url":
        return _DOMAINS[int(pick(len(_DOMAINS)))]
    if slot == "number":
        return rng.choice([str(int(pick(1, 100000))), f"{float(rng.random() * 100):.1f}",
                           f"{int(pick(1, 1000)):,}", f"第{int(pick(1, 200))}"])
    if slot == "unit":
        return str(int(pick(1, 1000))) + _UNITS[int(pick(len(_UNITS)))]
    raise ValueError(slot)


#: Mixed-text templates: {c} is a piece of PKU test text, the other slots come from `_fill`.
_TEMPLATES = (
    "{c}{word}{c}", "{c}仅需{price}", "{date}{c}", "{c}请拨打{phone}", "详见{url}",
    "{c}{number}{c}", "{c}约{unit}", "{word}{c}{number}", "{c}：{price}起", "访问{url}了解{c}",
    "电话：{phone}", "{date}，{c}{unit}", "{c}（{word}）", "截至{date}共{number}人",
)


def mixed_lines(data: Path, n: int, rng: np.random.Generator) -> list[str]:
    """`n` lines with Latin words, numbers, prices, dates, phone numbers or URLs in Chinese."""
    pieces = text_chunks(data, 3 * n + 10, rng, lo=2, hi=7)
    out, k = [], 0
    while len(out) < n:
        template = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))]
        parts = []
        for literal, slot in _split_template(template):
            parts.append(literal)
            if slot == "c":
                parts.append(pieces[k % len(pieces)])
                k += 1
            elif slot:
                parts.append(str(_fill(slot, rng)))
        out.append("".join(parts))
    return out


def _split_template(template: str) -> list[tuple[str, str]]:
    out, rest = [], template
    while rest:
        head, _, tail = rest.partition("{")
        slot, _, rest = tail.partition("}")
        out.append((head, slot))
    return out


def line_texts(data: Path, n: int, rng: np.random.Generator) -> list[str]:
    """`n` texts for a rendered set: PKU test pieces and mixed lines, shuffled; a few spare."""
    n_mixed = int(round(MIXED_SHARE * n))
    texts = text_chunks(data, n - n_mixed + n // 2 + 5, rng) + mixed_lines(data, n_mixed + 5, rng)
    return [texts[i] for i in rng.permutation(len(texts))]


# ----------------------------------------------------------------- fonts
@dataclass(frozen=True)
class Face:
    path: str
    index: int = 0

    @property
    def name(self) -> str:
        return Path(self.path).stem


@lru_cache(maxsize=64)
def _pil_font(path: str, index: int, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(path, size, index=index)


@lru_cache(maxsize=16)
def _cmap(path: str, index: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=index, lazy=True)
    return frozenset(font.getBestCmap())


def covers(face: Face, text: str) -> bool:
    cmap = _cmap(face.path, face.index)
    return all(ord(ch) in cmap for ch in text if not ch.isspace())


def inks_every_char(face: Face, text: str, size: int) -> bool:
    """Whether every character draws something (a font may map a code point to an empty glyph,
    and a reference cannot ask for text that is not there)."""
    font = _pil_font(face.path, face.index, size)
    for ch in set(text):
        if ch.isspace():
            continue
        x0, y0, x1, y1 = font.getbbox(ch)
        if x1 <= x0 or y1 <= y0:
            return False
    return True


def training_faces() -> list[Face]:
    return [Face(p, i) for p, i in TRAINING_FONTS if Path(p).is_file()]


def withheld_faces(cache: Path = FONT_CACHE) -> list[Face]:
    return [Face(str(cache / "extracted" / f), i) for _, f, i in WITHHELD_FONTS
            if (cache / "extracted" / f).is_file()]


def fetch_withheld_fonts(cache: Path = FONT_CACHE) -> None:
    """Download the withheld typefaces' Debian packages into `cache` and extract them there
    (never installed: the system's font lists must not see them)."""
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", *(pkg for pkg, _, _ in WITHHELD_FONTS)], cwd=debs,
                   check=True, capture_output=True)
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(cache / "extracted")], check=True)


FETCH_HINT = (f"mkdir -p {FONT_CACHE}/debs && cd {FONT_CACHE}/debs && apt-get download "
              + " ".join(pkg for pkg, _, _ in WITHHELD_FONTS)
              + " && for d in *.deb; do dpkg-deb -x $d ../extracted; done")


# --------------------------------------------------------------- drawing
def _luma(rgb) -> float:
    r, g, b = rgb
    return 0.299 * r + 0.587 * g + 0.114 * b


def draw_text(text: str, face: Face, size: int, fg, bg, pad: tuple[int, int]) -> np.ndarray:
    """`text` on one line, anti-aliased grey-scale at `size` px with the font's hinting, drawn
    at whole pixels and never rescaled (as a browser draws UI text), `pad` px (x, y) around it."""
    from PIL import Image, ImageDraw

    font = _pil_font(face.path, face.index, size)
    x0, y0, x1, y1 = font.getbbox(text)
    ascent, descent = font.getmetrics()
    height = max(ascent + descent, y1) - min(0, y0)
    img = Image.new("RGB", (x1 - min(0, x0) + 2 * pad[0], height + 2 * pad[1]), tuple(bg))
    ImageDraw.Draw(img).text((pad[0] - min(0, x0), pad[1] - min(0, y0)), text, font=font,
                             fill=tuple(fg))
    return np.asarray(img)


def _pick_face(faces: list[Face], text: str, size: int, start: int) -> Face | None:
    for j in range(len(faces)):
        face = faces[(start + j) % len(faces)]
        if covers(face, text) and inks_every_char(face, text, size):
            return face
    return None


def _rendered(texts: list[str], faces: list[Face], n: int, rng: np.random.Generator,
              sizes: tuple[int, int], draw) -> list[Item]:
    items: list[Item] = []
    for text in texts:
        size = int(rng.integers(sizes[0], sizes[1] + 1))
        face = _pick_face(faces, text, size, len(items))
        if face is None:
            continue
        items.append(Item(draw(text, face, size, rng), text, [text], face.name))
        if len(items) >= n:
            break
    return items


def withheld_set(data: Path, n: int, seed: int, faces: list[Face]) -> list[Item]:
    """Lines in the withheld typefaces, 24-48 px, either polarity, clean or slightly blurred."""
    rng = np.random.default_rng(seed)

    def draw(text, face, size, rng):
        grey = int(rng.integers(0, 60)), int(rng.integers(200, 256))
        fg, bg = (grey[0],) * 3, (grey[1],) * 3
        if rng.random() < 0.3:
            fg, bg = bg, fg
        pad = int(0.3 * size)
        img = draw_text(text, face, size, fg, bg, (pad, pad))
        if rng.random() < 0.3:
            img = _blur(img, 0.6)
        return img

    return _rendered(line_texts(data, n, rng), faces, n, rng, WITHHELD_SIZES, draw)


def screen_set(data: Path, n: int, seed: int, faces: list[Face]) -> list[Item]:
    """UI text at 12-20 px as a screen shows it: UI colour pairs, no noise, no rescaling."""
    rng = np.random.default_rng(seed)
    pairs = [p for p in UI_COLOURS if abs(_luma(p[0]) - _luma(p[1])) >= MIN_LUMA_GAP]

    def draw(text, face, size, rng):
        fg, bg = pairs[int(rng.integers(len(pairs)))]
        pad = (int(rng.integers(SCREEN_PAD[0], SCREEN_PAD[1] + 1)),
               int(rng.integers(SCREEN_PAD[0], SCREEN_PAD[1] + 1)))
        return draw_text(text, face, size, fg, bg, pad)

    return _rendered(line_texts(data, n, rng), faces, n, rng, SCREEN_SIZES, draw)


PAGE_SIZES = (13, 18)  # px: body text of a web page or chat at 100% zoom
PAGE_LINES = (3, 6)  # lines per page, inclusive
PAGE_LINE_CHARS = (20, 40)  # characters per line
PAGE_LEADING = (0.15, 0.45)  # space above and below each line, x the font size
PAGE_JPEG = (45, 92)  # JPEG quality of a shared screenshot


def pages_set(data: Path, n: int, seed: int, faces: list[Face]) -> list[Item]:
    """Screenshots of a few lines of small body text (a news page, a chat), UI colour pairs,
    saved as JPEG as screenshots are shared: the real news screenshot's case, in the training
    fonts."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    pairs = [p for p in UI_COLOURS if abs(_luma(p[0]) - _luma(p[1])) >= MIN_LUMA_GAP]
    texts = text_chunks(data, n * PAGE_LINES[1] * 2, rng, *PAGE_LINE_CHARS)
    items: list[Item] = []
    t = 0
    while len(items) < n and t + PAGE_LINES[1] <= len(texts):
        k = int(rng.integers(PAGE_LINES[0], PAGE_LINES[1] + 1))
        size = int(rng.integers(PAGE_SIZES[0], PAGE_SIZES[1] + 1))
        fg, bg = pairs[int(rng.integers(len(pairs)))]
        chunk, t = texts[t:t + k], t + k
        face = _pick_face(faces, "".join(chunk), size, len(items))
        if face is None:
            continue
        rows = [draw_text(line, face, size, fg, bg,
                          (8, int(size * rng.uniform(*PAGE_LEADING)))) for line in chunk]
        page = np.empty((sum(r.shape[0] for r in rows) + 16,
                         max(r.shape[1] for r in rows) + 16, 3), np.uint8)
        page[:] = bg
        y = 8
        for r in rows:
            page[y:y + r.shape[0], 8:8 + r.shape[1]] = r
            y += r.shape[0]
        buf = io.BytesIO()
        Image.fromarray(page).save(buf, "JPEG", quality=int(rng.integers(*PAGE_JPEG)))
        items.append(Item(np.asarray(Image.open(buf).convert("RGB")), "\n".join(chunk),
                          list(chunk), face.name))
    return items


def photo_set(data: Path, n: int, seed: int, faces: list[Face]) -> list[Item]:
    """Lines as a phone photographs a printed notice: perspective, shear and rotation, uneven
    light, blur, sensor noise and JPEG."""
    rng = np.random.default_rng(seed)

    def draw(text, face, size, rng):
        paper = tuple(int(v) for v in rng.integers(200, 256, 3))
        ink = tuple(int(v) for v in rng.integers(0, 70, 3))
        img = draw_text(text, face, size, ink, paper, (size, size))
        return photograph(img, rng)

    return _rendered(line_texts(data, n, rng), faces, n, rng, PHOTO_SIZES, draw)


def photograph(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    from PIL import Image

    h, w = img.shape[:2]
    pil = Image.fromarray(img)
    fill = tuple(int(v) for v in img[0, 0])
    j = PHOTO_CORNER_JITTER * h
    shear = float(rng.uniform(-PHOTO_SHEAR, PHOTO_SHEAR)) * h
    # perspective: where each output corner samples the input (PIL's 8-coefficient map)
    src = [(rng.uniform(-j, j) + shear, rng.uniform(-j, j)),
           (w + rng.uniform(-j, j) + shear, rng.uniform(-j, j)),
           (w + rng.uniform(-j, j), h + rng.uniform(-j, j)),
           (rng.uniform(-j, j), h + rng.uniform(-j, j))]
    dst = [(0, 0), (w, 0), (w, h), (0, h)]
    pil = pil.transform((w, h), Image.Transform.PERSPECTIVE, _perspective(dst, src),
                        Image.Resampling.BICUBIC, fillcolor=fill)
    pil = pil.rotate(float(rng.uniform(-PHOTO_ROTATION, PHOTO_ROTATION)),
                     Image.Resampling.BICUBIC, expand=True, fillcolor=fill)
    arr = np.asarray(pil).astype(np.float32)
    hh, ww = arr.shape[:2]
    yy, xx = np.mgrid[0:hh, 0:ww].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xx / ww + np.sin(angle) * yy / hh)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    light = PHOTO_LIGHT[0] + (PHOTO_LIGHT[1] - PHOTO_LIGHT[0]) * ramp
    arr = arr * light[..., None] + rng.normal(0, PHOTO_NOISE, arr.shape)
    out = _blur(np.clip(arr, 0, 255).astype(np.uint8), float(rng.uniform(*PHOTO_BLUR)))
    buf = io.BytesIO()
    Image.fromarray(out).save(buf, "JPEG", quality=int(rng.integers(*PHOTO_JPEG)))
    return np.asarray(Image.open(buf).convert("RGB"))


def _perspective(dst, src) -> list[float]:
    """PIL's perspective coefficients mapping output points `dst` to input points `src`."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return [float(c) for c in np.linalg.solve(np.array(rows, float), np.array(rhs, float))]


def _blur(img: np.ndarray, radius: float) -> np.ndarray:
    from PIL import Image, ImageFilter

    return np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(radius)))


# ------------------------------------------------------------ posters
#: Bold faces the posters' titles and buttons draw with, when installed (else the body faces).
POSTER_BOLD_FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Black.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
)
POSTER_SIZE = (720, 520)  # px, the whole image
POSTER_TITLE_SIZES = (48, 84)  # px
POSTER_BODY_SIZES = (15, 24)  # px: a card's body text, a chat's messages
POSTER_BUTTONS = ("立即购买", "马上报名", "了解更多", "免费领取", "扫码关注", "查看详情",
                  "立即下载")
POSTER_LAYOUTS = ("card", "chat", "dark card", "on picture")


def posters_set(data: Path, n: int, seed: int, faces: list[Face]) -> list[Item]:
    """Posters and app screens, four layouts in turn: a title (plain, outlined or shadowed)
    over a picture with a light card of body text and a button below it; a chat screenshot
    (bubbles, a time stamp); a dark translucent card of light text over a picture; white
    shadowed title and lines straight on a picture. The picture is a blurred gradient with
    discs of random colours. Reading order is top to bottom."""
    rng = np.random.default_rng(seed)
    bold = [Face(p, i) for p, i in POSTER_BOLD_FONTS if Path(p).is_file()] or faces
    texts = text_chunks(data, 12 * n, rng, 14, 26)
    titles = [t for t in (_hanzi_only(c)[:int(rng.integers(4, 9))]
                          for c in text_chunks(data, 2 * n, rng, 8, 16)) if len(t) >= 4]
    draw = {"card": _poster_card, "chat": _poster_chat, "dark card": _poster_dark_card,
            "on picture": _poster_on_picture}
    items: list[Item] = []
    k = 0
    while len(items) < n and k < len(titles) and len(texts) >= 8:
        layout = POSTER_LAYOUTS[len(items) % len(POSTER_LAYOUTS)]
        image, lines = draw[layout](rng, faces, bold, titles[k], texts, len(items))
        k += 1
        if image is not None:
            items.append(Item(image, "\n".join(lines), lines, layout))
    return items


def _hanzi_only(text: str) -> str:
    return "".join(ch for ch in text if "\u4e00" <= ch <= "\u9fff")


def _picture(rng: np.random.Generator, w: int, h: int):
    from PIL import Image, ImageDraw, ImageFilter

    c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    t = np.linspace(0, 1, w)[None, :, None] if rng.random() < 0.5 else \
        np.linspace(0, 1, h)[:, None, None]
    img = Image.fromarray(np.broadcast_to(c0 * (1 - t) + c1 * t, (h, w, 3)).astype(np.uint8))
    d = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(3, 13))):
        x, y, r = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(10, 121))
        d.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    return img.filter(ImageFilter.GaussianBlur(float(rng.uniform(2, 8))))


def _body_lines(rng, faces, texts, size, start, count, width_px):
    """`count` texts taken from `texts` (consumed), each cut to fit `width_px` at `size`, with a
    face that inks them; None when no face does."""
    out = []
    for _ in range(count):
        text = texts.pop()
        face = _pick_face(faces, text, size, start + len(out))
        if face is None:
            return None
        font = _pil_font(face.path, face.index, size)
        while text and font.getlength(text) > width_px:
            text = text[:-1]
        out.append((text.strip(), font))
    return out


def _title(d, rng, bold, title, xy, size, start):
    face = _pick_face(bold, title, size, start)
    if face is None:
        return False
    font = _pil_font(face.path, face.index, size)
    kind = int(rng.integers(3))
    fill = tuple(int(v) for v in rng.integers(0, 256, 3)) if kind == 0 else (255, 255, 255)
    if kind == 2:  # shadowed
        d.text((xy[0] + 4, xy[1] + 4), title, font=font, fill=(0, 0, 0))
        d.text(xy, title, font=font, fill=fill)
    else:  # outlined: a coloured fill in white, or white in black
        d.text(xy, title, font=font, fill=fill, stroke_width=max(2, size // 20),
               stroke_fill=(255, 255, 255) if kind == 0 else (20, 20, 20))
    return True


def _poster_card(rng, faces, bold, title, texts, start):
    from PIL import ImageDraw

    w, h = POSTER_SIZE
    img = _picture(rng, w, h)
    d = ImageDraw.Draw(img)
    size = int(rng.integers(*POSTER_TITLE_SIZES))
    if not _title(d, rng, bold, title, (30, 30), size, start):
        return None, []
    body = _body_lines(rng, faces, texts, int(rng.integers(*POSTER_BODY_SIZES)), start, 3, 640)
    if body is None:
        return None, []
    d.rectangle((20, 160, w - 20, 320), fill=(250, 250, 245))
    for k, (text, font) in enumerate(body):
        d.text((34, 172 + 48 * k), text, font=font, fill=(30, 30, 30))
    button = POSTER_BUTTONS[int(rng.integers(len(POSTER_BUTTONS)))]
    d.rounded_rectangle((200, 400, 520, 470), 16,
                        fill=tuple(int(v) for v in rng.integers(0, 161, 3)))
    bface = _pick_face(bold, button, 40, start)
    if bface is None:
        return None, []
    d.text((250, 412), button, font=_pil_font(bface.path, bface.index, 40), fill=(255, 255, 255))
    return np.asarray(img), [title] + [t for t, _ in body] + [button]


def _poster_chat(rng, faces, bold, title, texts, start):
    from PIL import Image, ImageDraw

    w, h = 480, 640
    img = Image.new("RGB", (w, h), (237, 237, 237))
    d = ImageDraw.Draw(img)
    stamp = f"昨天 {int(rng.integers(8, 24))}:{int(rng.integers(0, 60)):02d}"
    sface = _pick_face(faces, stamp, 13, start)
    size = int(rng.integers(*POSTER_BODY_SIZES))
    body = _body_lines(rng, faces, texts, size, start, 7, 300)
    if sface is None or body is None:
        return None, []
    d.text((200, 20), stamp, font=_pil_font(sface.path, sface.index, 13), fill=(160, 160, 160))
    lines, y = [stamp], 54
    for text, font in body:
        if y > h - size - 40:
            break
        right = rng.random() < 0.5
        tw = font.getlength(text)
        x0 = w - 70 - tw - 24 if right else 70
        d.rounded_rectangle((x0, y, x0 + tw + 24, y + size + 22), 6,
                            fill=(149, 236, 105) if right else (255, 255, 255))
        avatar = (w - 56, y, w - 16, y + 40) if right else (16, y, 56, y + 40)
        d.rectangle(avatar, fill=tuple(int(v) for v in rng.integers(60, 201, 3)))
        d.text((x0 + 12, y + 10), text, font=font, fill=(20, 20, 20))
        lines.append(text)
        y += size + 50
    return np.asarray(img), lines


def _poster_dark_card(rng, faces, bold, title, texts, start):
    from PIL import Image, ImageDraw

    w, h = POSTER_SIZE
    base = _picture(rng, w, h).convert("RGBA")
    veil = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    ImageDraw.Draw(veil).rounded_rectangle((30, 60, w - 30, h - 40), 12,
                                           fill=(20, 20, 30, int(rng.integers(200, 241))))
    img = Image.alpha_composite(base, veil).convert("RGB")
    d = ImageDraw.Draw(img)
    size = int(rng.integers(*POSTER_BODY_SIZES))
    body = _body_lines(rng, faces, texts, size, start, int(rng.integers(4, 7)), 620)
    if body is None:
        return None, []
    for k, (text, font) in enumerate(body):
        d.text((50, 85 + 60 * k), text, font=font, fill=(235, 235, 235))
    return np.asarray(img), [t for t, _ in body]


def _poster_on_picture(rng, faces, bold, title, texts, start):
    from PIL import ImageDraw

    w, h = POSTER_SIZE
    img = _picture(rng, w, h)
    d = ImageDraw.Draw(img)
    if not _title(d, rng, bold, title, (40, 30), int(rng.integers(*POSTER_TITLE_SIZES)), start):
        return None, []
    size = int(rng.integers(20, 27))
    body = _body_lines(rng, bold, texts, size, start, 3, 640)
    if body is None:
        return None, []
    for k, (text, font) in enumerate(body):
        y = 170 + 70 * k
        d.text((42, y + 2), text, font=font, fill=(0, 0, 0))
        d.text((40, y), text, font=font, fill=(255, 255, 255))
    return np.asarray(img), [title] + [t for t, _ in body]


# ------------------------------------------------------------ real images
def real_set(folder: Path) -> list[Item]:
    """The real images and their hand transcriptions (`labels.tsv`: file, lines joined by a
    literal backslash-n)."""
    from PIL import Image

    items = []
    for row in (folder / "labels.tsv").read_text(encoding="utf-8").splitlines():
        if not row.strip():
            continue
        name, _, text = row.partition("\t")
        lines = text.split("\\n")
        img = np.asarray(Image.open(folder / name).convert("RGB"))
        items.append(Item(img, "\n".join(lines), lines, name))
    return items


def char_class(ch: str) -> str:
    """CJK, Latin, digit, punct or other: the classes the error breakdown counts."""
    if ch.isdigit():
        return "digit"
    if ch.isascii() and ch.isalpha():
        return "Latin"
    if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf":
        return "CJK"
    if unicodedata.category(ch).startswith(("P", "S")):
        return "punct"
    return "other"
