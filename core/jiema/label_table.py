"""`labels.tsv`: the table a user's labelled folder carries, one `FILE<TAB>LABEL` row per image.

The captcha reader trains and is scored on such folders, the OCR span chooser is fitted on
them; one reader keeps the format the same for every task (and for third-party plugins): UTF-8,
blank lines and `#` comments skipped, the file name up to the first tab, the label after it.
What a label may hold, and whether a bad row stops the run, is the task's to say.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .corpus import read_lines

LABELS_FILE = "labels.tsv"


@dataclass(frozen=True)
class LabelRow:
    """One row: its line number (from 1), the image's file name as written, and its label."""

    line: int
    file: str
    label: str


@dataclass(frozen=True)
class LabelTable:
    """The rows of a table, and the `(line number, text)` of each row that has no tab or no
    file name before it."""

    rows: list[LabelRow] = field(default_factory=list)
    malformed: list[tuple[int, str]] = field(default_factory=list)


def read_label_table(path: str | os.PathLike[str]) -> LabelTable:
    """A label table read whole. Not UTF-8: `jiema.errors.InputDecodeError` (file and byte
    offset); cannot be opened: `OSError`."""
    table = LabelTable()
    for record in read_lines(Path(path)):
        text = record.text
        if not text.strip() or text.startswith("#"):
            continue
        name, tab, label = text.partition("\t")
        if not tab or not name:
            table.malformed.append((record.line, text))
        else:
            table.rows.append(LabelRow(record.line, name, label))
    return table
