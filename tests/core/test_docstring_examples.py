"""The examples in the public functions' docstrings run and print what they say."""

import doctest
import importlib

import pytest


@pytest.mark.parametrize("module", ["jiema.decode", "jiema.atomic", "jiema.lazy", "jiema.images"])
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
