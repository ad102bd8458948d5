"""The seeded generator: same seed -> byte-identical images; settings are validated."""

from __future__ import annotations

import hashlib
import secrets

import pytest
from pydantic import ValidationError

pytest.importorskip("captcha")
from jiema_captcha.generator import (  # noqa: E402
    LOWER,
    UPPER,
    CaptchaGenerator,
    CaptchaSettings,
    image_rng,
)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_same_seed_gives_byte_identical_images() -> None:
    a = [CaptchaGenerator(seed=7).png(i) for i in range(5)]
    b = [CaptchaGenerator(seed=7).png(i) for i in reversed(range(5))][::-1]  # any order
    assert [digest(p) for p, _ in a] == [digest(p) for p, _ in b]
    assert [lab for _, lab in a] == [lab for _, lab in b]


def test_different_seeds_and_indices_differ() -> None:
    gen7, gen8 = CaptchaGenerator(seed=7), CaptchaGenerator(seed=8)
    assert gen7.png(0)[0] != gen8.png(0)[0]
    assert gen7.png(0)[0] != gen7.png(1)[0]


def test_secrets_module_is_restored() -> None:
    import captcha.image

    CaptchaGenerator(seed=1).sample(0)
    assert captcha.image.secrets is secrets


def test_labels_follow_alphabet_and_length_range() -> None:
    settings = CaptchaSettings(alphabet="AB12", min_length=3, max_length=6, width=120, height=50)
    gen = CaptchaGenerator(settings, seed=3)
    lengths = set()
    for i in range(40):
        image, label = gen.sample(i)
        assert image.size == (120, 50)
        assert set(label) <= set("AB12")
        lengths.add(len(label))
    assert lengths <= set(range(3, 7)) and len(lengths) >= 3


def test_case_insensitive_draws_mixed_case_and_labels_lowercase() -> None:
    settings = CaptchaSettings(alphabet=LOWER, case_insensitive=True)
    gen = CaptchaGenerator(settings, seed=4)
    shown = "".join(gen.text(image_rng(4, i)) for i in range(30))
    assert any(c.isupper() for c in shown) and any(c.islower() for c in shown)
    for i in range(30):
        _, label = gen.sample(i)
        assert label == label.lower() and len(label) == 4
    # the label is the lowercase of the drawn text
    assert gen.sample(0)[1] == gen.text(image_rng(4, 0)).lower()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"alphabet": "AAB"},
        {"alphabet": ""},
        {"alphabet": "A B"},
        {"min_length": 5, "max_length": 4},
        {"alphabet": UPPER, "case_insensitive": True},
        {"width": 0},
    ],
)
def test_bad_settings_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValidationError):
        CaptchaSettings(**kwargs)
