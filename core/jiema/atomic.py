"""Writing files so that a kill or an error never leaves a half-written or emptied file.

Every writer in jiema goes through here: the content goes to a temporary file beside the target
(same folder, so the final `os.replace` is an atomic rename on one file system) and replaces the
target only once it is complete; on an error the temporary file is removed and the old target,
if any, is untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside `path` for a library that writes to a path (safetensors,
    Pillow); it becomes `path` when the block ends without an error.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    target = Path(path)
    fd, name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=f".tmp{target.suffix}", dir=target.parent
    )
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _give_mode(tmp, target)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _give_mode(tmp: Path, target: Path) -> None:
    """The permissions `open(target, "w")` would leave: the old file's where it exists, else
    0o666 less the umask. `mkstemp` makes 0o600 files: a model written for a service running as
    another user would be unreadable to it."""
    try:
        mode = target.stat().st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_umask()
    with contextlib.suppress(OSError):  # a file system without permissions (FAT) keeps its own
        os.chmod(tmp, mode)


def _umask() -> int:
    """The process umask, read without changing it where Linux shows it (`os.umask` can only be
    read by setting it, which races with other threads creating files)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_open(
    path: str | os.PathLike[str],
    mode: str = "w",
    *,
    encoding: str | None = "utf-8",
    newline: str | None = "\n",
) -> Iterator[IO[Any]]:
    """`open(path, mode)` for writing, replacing `path` only once the block completes.

    `mode` is "w" (text, `encoding` and `newline` apply) or "wb"."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files: mode 'w' or 'wb', not {mode!r}")
    text = mode == "w"
    with atomic_path(path) as tmp:
        with open(
            tmp, mode, encoding=encoding if text else None, newline=newline if text else None
        ) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())


def write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """`Path.write_text`, atomically."""
    with atomic_open(path, "w", encoding=encoding) as f:
        f.write(text)
