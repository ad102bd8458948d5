"""The labelled-folder table both the captcha and the OCR plugins read (`jiema.label_table`)."""

from __future__ import annotations

import pytest
from jiema.errors import InputDecodeError
from jiema.label_table import LabelRow, read_label_table


def test_rows_comments_and_malformed_rows(tmp_path) -> None:
    path = tmp_path / "labels.tsv"
    path.write_text("a.png\tab12\n\n# a comment\nb.png\t电视\\n机\tx\nno tab here\n\tlabel\n"
                    "c.png\t\n", encoding="utf-8")
    table = read_label_table(path)
    # the file name ends at the first tab; the label is the rest, as written
    assert table.rows == [LabelRow(1, "a.png", "ab12"), LabelRow(4, "b.png", "电视\\n机\tx"),
                          LabelRow(7, "c.png", "")]
    assert table.malformed == [(5, "no tab here"), (6, "\tlabel")]


def test_a_table_that_is_not_utf8_names_the_byte(tmp_path) -> None:
    path = tmp_path / "labels.tsv"
    path.write_bytes(b"a.png\tok\nb.png\t\xff\n")
    with pytest.raises(InputDecodeError) as err:
        read_label_table(path)
    assert err.value.offset == 15
