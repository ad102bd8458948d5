"""jiema captcha plugin: a seeded captcha generator, CNN readers (independent heads, CTC) and
their training; CTC output is decoded by the core's Viterbi under the CTC grammar.

    from jiema_captcha import CaptchaReader, read_captchas
    read_captchas(["a.png", png_bytes, pil_image, array])       # shipped upper4 by default
    CaptchaReader("letters4-ci").read("b.png").text             # lowercase, case-insensitive

Names load on first use, so importing the package (as `jiema --help` does) pulls in no torch.
"""

from __future__ import annotations

from jiema.lazy import lazy_exports

_LAZY = {
    "CaptchaReader": "jiema_captcha.reader",
    "CaptchaResult": "jiema_captcha.reader",
    "read_captchas": "jiema_captcha.reader",
    "CaptchaGenerator": "jiema_captcha.generator",
    "CaptchaSettings": "jiema_captcha.generator",
    "ImageInputError": "jiema_captcha.images",
    "NetworkSettings": "jiema_captcha.settings",
    "TrainOptions": "jiema_captcha.settings",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

