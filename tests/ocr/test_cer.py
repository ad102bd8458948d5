"""The benchmark's scoring: dash folding on real images and the order-free error."""

from jiema_ocr.cer import bag_distance, cer, edit_distance, order_free_error, real_text


def test_real_text_folds_every_dash_variant_but_not_yi():
    assert real_text("2019\u20143\u2013\uff0d\u2212\u2015x") == "2019-3----x"
    assert real_text("统一 ——") == "统一--"  # 一 stays a character; spaces go


def test_real_text_keeps_nfkc_and_drops_whitespace():
    assert real_text("ＡＢ　1 2\n") == "AB12"


def test_bag_distance_ignores_order_and_counts_multiplicity():
    assert bag_distance("甲乙丙", "丙甲乙") == 0
    assert edit_distance("甲乙丙", "丙甲乙") == 2
    assert bag_distance("啊啊", "啊") == 1  # a dropped repeat is one unmatched character
    assert bag_distance("甲乙", "甲丁") == 1  # a substitution costs 1, as in CER
    assert bag_distance("", "甲乙") == 2


def test_order_free_error_never_exceeds_cer():
    refs = ["第一行\n第二行", "价格：12—15元"]
    hyps = ["第二行\n第一行", "价格:12-16元"]
    assert order_free_error(refs, hyps) == 1 / 15  # only 5→6; swapped lines and dash free
    assert cer(refs, hyps) > order_free_error(refs, hyps)
