"""jiema.atomic: a failed or interrupted write leaves the old file as it was."""

from pathlib import Path

import pytest
from jiema.atomic import atomic_open, atomic_path, write_text


def test_write_replaces_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_open(target) as f:
        f.write("half")
        raise RuntimeError("killed")
    assert target.read_text(encoding="utf-8") == "old"
    assert list(tmp_path.iterdir()) == [target]  # the temporary file is gone
    write_text(target, "新\n")
    assert target.read_bytes() == "新\n".encode()


def test_atomic_path_for_libraries(tmp_path: Path) -> None:
    target = tmp_path / "w.bin"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        tmp.write_bytes(b"\x00\x01")
        assert not target.exists()
    assert target.read_bytes() == b"\x00\x01"


def test_binary_mode_and_bad_mode(tmp_path: Path) -> None:
    with atomic_open(tmp_path / "b", "wb") as f:
        f.write(b"xy")
    assert (tmp_path / "b").read_bytes() == b"xy"
    with pytest.raises(ValueError, match="whole files"), atomic_open(tmp_path / "c", "a"):
        pass


def test_a_new_file_gets_the_umask_mode_and_a_replaced_one_keeps_its_mode(tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o027)
    try:
        write_text(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640  # not mkstemp's 0o600
    kept = tmp_path / "kept.txt"
    kept.write_text("old")
    kept.chmod(0o604)
    write_text(kept, "new")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o604 and kept.read_text() == "new"
