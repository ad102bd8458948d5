"""The Debian CJK fonts the OCR tests render with, and the mark of a test that needs one: only
those tests skip where no font is installed (`.ci/run` installs them)."""

from __future__ import annotations

import pytest
from jiema_ocr.synth import FONT_PACKAGES, find_fonts

FONTS = find_fonts()
needs_fonts = pytest.mark.skipif(
    not FONTS, reason=f"no Debian CJK font installed ({', '.join(FONT_PACKAGES)})")
