"""Streaming line reader (exact byte offsets of bad bytes) and segmented-corpus readers."""

from __future__ import annotations

import io
import sys

import pytest
from jiema.corpus import Line, parse_pd_line, parse_pd_tagged_line, read_lines, read_segmented
from jiema.errors import InputDecodeError, InvalidInputError


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_lines_in_order_across_files_with_crlf_bom_and_no_final_newline(tmp_path):
    a = write(tmp_path, "a.txt", "\ufeff第一\r\n第二\n\n".encode())
    b = write(tmp_path, "b.txt", "x\ry\n\ufeffz".encode())
    got = list(read_lines([a, str(b)]))
    assert [(r.file, r.line, r.text) for r in got] == [
        (str(a), 1, "第一"),
        (str(a), 2, "第二"),
        (str(a), 3, ""),
        (str(b), 1, "x\ry"),  # a lone CR is not a line end
        (str(b), 2, "\ufeffz"),  # a BOM is stripped at file start only
    ]
    assert [r.offset for r in got] == [0, 11, 18, 0, 4]
    assert all(r.error is None for r in got)


def test_single_path_and_empty_file(tmp_path):
    empty = write(tmp_path, "e.txt", b"")
    assert list(read_lines(empty)) == []
    one = write(tmp_path, "one.txt", b"abc")
    assert list(read_lines(str(one))) == [Line(str(one), 1, "abc", 0)]


@pytest.mark.parametrize(
    ("data", "offset"),
    [
        (b"ok\n\xe4\xb8\xad\xff\n", 6),  # bad byte after a good 3-byte character
        (b"\xef\xbb\xbf\xff", 3),  # after the BOM
        (b"a\r\nb\xe4\xb8\n", 4),  # truncated sequence at the line end
        (b"abc\xed\xa0\x80", 3),  # an encoded surrogate is not UTF-8
        (b"\xc0\xaf", 0),  # overlong
    ],
)
def test_decode_error_names_file_and_exact_byte_offset(tmp_path, data, offset):
    path = write(tmp_path, "bad.txt", data)
    with pytest.raises(InputDecodeError) as info:
        list(read_lines(path))
    assert info.value.file == str(path)
    assert info.value.offset == offset
    assert f"byte offset {offset}" in str(info.value)


def test_strict_mode_yields_good_lines_before_the_bad_one(tmp_path):
    path = write(tmp_path, "bad.txt", b"a\nb\n\xff\nc\n")
    lines = read_lines(path)
    assert next(lines).text == "a" and next(lines).text == "b"
    with pytest.raises(InputDecodeError):
        next(lines)


def test_record_mode_reports_and_goes_on(tmp_path):
    bad = write(tmp_path, "bad.txt", b"a\n\xff\nc\n")
    missing = tmp_path / "missing.txt"
    good = write(tmp_path, "good.txt", b"z\n")
    got = list(read_lines([bad, missing, good], errors="record"))
    assert [(r.line, r.text) for r in got] == [(1, "a"), (2, ""), (3, "c"), (0, ""), (1, "z")]
    assert isinstance(got[1].error, InputDecodeError) and got[1].error.offset == 2
    assert isinstance(got[3].error, FileNotFoundError) and got[3].file == str(missing)
    with pytest.raises(FileNotFoundError):
        list(read_lines(missing))
    with pytest.raises(InvalidInputError):
        list(read_lines(good, errors="ignore"))


def test_stdin_is_read_as_bytes(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbfa\r\n\xffb\n")))
    lines = list(read_lines("-", errors="record"))
    assert lines[0] == Line("<stdin>", 1, "a", 0)
    assert lines[1].error.file == "<stdin>" and lines[1].error.offset == 6


def test_binary_file_objects_are_sources():
    stream = io.BytesIO(b"x\ny\n")
    assert [r.text for r in read_lines(stream)] == ["x", "y"]
    assert [r.file for r in read_lines(io.BytesIO(b"q"))] == ["<stream>"]
    with pytest.raises(InvalidInputError, match="binary"):
        list(read_lines(io.StringIO("x")))
    with pytest.raises(InvalidInputError, match="bytes"):
        list(read_lines([b"a.txt"]))


def test_reading_is_lazy():
    class Endless:
        """A stream that never ends: only a lazy reader can take lines from it."""

        name = "endless"

        def read(self, size=-1):
            raise AssertionError("read() of everything is not streaming")

        def __iter__(self):
            n = 0
            while True:
                n += 1
                yield f"line {n}\n".encode()

    lines = read_lines(Endless())
    assert [next(lines).text for _ in range(3)] == ["line 1", "line 2", "line 3"]


PD_LINE = (
    "19980101-01-001-002/m  中共中央/nt  总书记/n  、/w  "
    "[中央/n  人民/n  广播/vn  电台/n]nt  １２月/t  ３１日/t  。/w  "
)


def test_pd_line_drops_id_and_tags_and_opens_compounds():
    assert parse_pd_line(PD_LINE) == [
        "中共中央", "总书记", "、", "中央", "人民", "广播", "电台", "１２月", "３１日", "。",
    ]
    whole = parse_pd_line(PD_LINE, compounds="whole")
    assert "中央人民广播电台" in whole and "中央" not in whole


def test_pd_tagged_line_keeps_each_words_tag_and_a_whole_compounds_own():
    tagged = parse_pd_tagged_line(PD_LINE)
    assert [w for w, _ in tagged] == parse_pd_line(PD_LINE)
    assert tagged[:3] == [("中共中央", "nt"), ("总书记", "n"), ("、", "w")]
    assert tagged[3:7] == [("中央", "n"), ("人民", "n"), ("广播", "vn"), ("电台", "n")]
    assert ("中央人民广播电台", "nt") in parse_pd_tagged_line(PD_LINE, compounds="whole")
    assert parse_pd_tagged_line("１/２/m  [/w") == [("１/２", "m"), ("[", "w")]


def test_pd_words_may_contain_slashes_and_brackets():
    assert parse_pd_line("１/２/m  [/w  ]/w") == ["１/２", "[", "]"]
    assert parse_pd_line("[香港/ns]ns") == ["香港"]


@pytest.mark.parametrize("line", ["中国/ns  美国", "[中国/ns  美国/ns", "[a/n  [b/n]nt", "/w"])
def test_malformed_pd_lines_name_the_place(line):
    with pytest.raises(InvalidInputError, match="f.txt:7"):
        parse_pd_line(line, where="f.txt:7")


def test_read_segmented_auto_detects_per_file(tmp_path):
    pd_text = f"\n{PD_LINE}\n\n19980101-01-001-003/m  \n迈向/v  未来/t\n"
    pd = write(tmp_path, "pd.txt", pd_text.encode())
    gold_text = "共同  创造  美好\u3000的  新  世纪\n\n  \n迈向/v  x\n"
    bakeoff = write(tmp_path, "gold.txt", gold_text.encode())
    got = list(read_segmented([pd, bakeoff]))
    assert got[0][:3] == ["中共中央", "总书记", "、"]
    assert got[1] == ["迈向", "未来"]
    assert got[2] == ["共同", "创造", "美好\u3000的", "新", "世纪"]  # U+3000 is not a separator
    assert got[3] == ["迈向/v", "x"]  # this file is bakeoff: decided by its first line
    assert len(got) == 4
    as_bakeoff = list(read_segmented(pd, "bakeoff"))
    assert as_bakeoff[1:] == [["19980101-01-001-003/m"], ["迈向/v", "未来/t"]]


def test_read_segmented_errors(tmp_path):
    pd = write(tmp_path, "pd.txt", b"a/n  b/n\nc/n  d\n")
    with pytest.raises(InvalidInputError, match=r"pd\.txt:2"):
        list(read_segmented(pd))
    with pytest.raises(InvalidInputError):
        list(read_segmented(pd, "xml"))
    with pytest.raises(InputDecodeError):
        list(read_segmented(write(tmp_path, "b.txt", b"\xff")))
