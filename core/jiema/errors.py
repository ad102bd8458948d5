"""Every error jiema raises on purpose, so callers can catch one family.

Messages say what was wrong and what was expected; the subclass says which rule broke.
"""

from __future__ import annotations


class JiemaError(Exception):
    """Base of every error jiema raises on purpose."""


class InvalidInputError(JiemaError, ValueError):
    """An argument at the public boundary is malformed."""


class ShapeError(InvalidInputError):
    """An array has the wrong number of dimensions or an inconsistent size (K = 0 included)."""


class DTypeError(InvalidInputError):
    """An array has a dtype the kernels do not accept."""


class InvalidValueError(InvalidInputError):
    """An array holds NaN or +inf (log-scores may be -inf, never NaN or +inf)."""


class LengthsError(InvalidInputError):
    """Batch `lengths` are negative or do not add up to the data they describe."""


class LabelRangeError(InvalidInputError):
    """A label, vocabulary id or boundary index lies outside its valid range."""


class NoPathError(JiemaError):
    """Every path through the lattice has score -inf (forbidden moves everywhere)."""


class DictionaryFormatError(JiemaError, ValueError):
    """A dictionary file has malformed lines; the message lists them with line numbers."""


class InputDecodeError(JiemaError, UnicodeError):
    """Input bytes are not valid in the expected encoding; names the file and byte offset."""

    def __init__(self, file: str, offset: int, reason: str = "invalid UTF-8") -> None:
        self.file = file
        self.offset = offset
        self.reason = reason
        super().__init__(f"{file}: {reason} at byte offset {offset}")


class NoTextError(InvalidInputError):
    """An image holds nothing to read (blank, no ink): an error rather than a guess."""


class PluginError(JiemaError):
    """A plugin could not be loaded or registered something invalid."""


class DuplicateNameError(PluginError):
    """Two plugins registered the same name; the message names both."""


class UnknownNameError(JiemaError, KeyError):
    """A name (task, component, model, command) is not registered; the message lists valid ones."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class ConfigError(JiemaError, ValueError):
    """A deployment config is invalid; the message points at the bad key."""


class ModelFileError(JiemaError):
    """A model file or its card is missing, unreadable or inconsistent."""


class MissingExtraError(JiemaError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, package: str, extra: str, purpose: str = "") -> None:
        self.package = package
        self.extra = extra
        why = f" for {purpose}" if purpose else ""
        super().__init__(
            f"{package} is needed{why} but is not installed; "
            f'install it with: pip install "jiema[{extra}]"'
        )


def require(module: str, extra: str, purpose: str = ""):  # noqa: ANN201 - returns a module
    """Import an optional dependency or raise MissingExtraError naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(module.split(".")[0], extra, purpose) from exc
