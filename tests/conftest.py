"""Fixtures shared by the test folders."""

from __future__ import annotations

import pytest
from click.testing import CliRunner


@pytest.fixture
def runner() -> CliRunner:
    """A click test runner for the CLI tests."""
    return CliRunner()
