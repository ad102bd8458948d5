"""The templates parser's file options in a deployment config are checked up front."""

from __future__ import annotations

import jiema
import jiema_templates.plugin as plugin
import pytest
from jiema.errors import ConfigError


def test_missing_templates_and_words_files_are_reported_by_key(tmp_path):
    engine = jiema.Engine(plugins=[plugin], load_entry_points=False,
                          config={"templates": {"parser": {"options": {
                              "templates": str(tmp_path / "t.txt"),
                              "words": str(tmp_path / "w.txt")}}}})
    with pytest.raises(ConfigError) as info:
        engine.task("templates")
    assert str(info.value).splitlines()[1:] == [
        f"  templates.parser.options.templates: file {tmp_path / 't.txt'} does not exist",
        f"  templates.parser.options.words: file {tmp_path / 'w.txt'} does not exist",
    ]


def test_a_parser_without_templates_says_which_option_to_set():
    engine = jiema.Engine(plugins=[plugin], load_entry_points=False)
    with pytest.raises(ConfigError, match=r"set templates = 'PATH' under "
                                          r"\[templates.parser.options\]"):
        engine.task("templates")
