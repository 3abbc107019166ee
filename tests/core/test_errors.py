"""The one rule for turning an exception into a line (app.core.errors), as each front end
places an OS error's file name."""

from __future__ import annotations

import pytest

from app.core.errors import OUT_OF_MEMORY, error_line, first_line, without_name
from app.core.io.imageio import ImageIOError


def enospc() -> OSError:
    return OSError(28, "No space left on device", "/out/photo.aei")


def test_first_line_and_type_name():
    assert first_line("  one\ntwo  ") == "one"
    assert first_line(" \n ") == ""
    assert error_line(ValueError("bad value\nmore detail")) == "bad value"
    assert error_line(RuntimeError("")) == "RuntimeError"
    assert error_line(KeyError("k")) == "'k'"


@pytest.mark.parametrize("place, line", [
    ("after", "No space left on device: /out/photo.aei"),           # a batch report
    ("before", "/out/photo.aei: No space left on device"),          # the GUI's job errors
    ("omit", "No space left on device"),                            # "Cannot save x: ..."
    ("errno", "[Errno 28] No space left on device: '/out/photo.aei'"),  # the CLI
])
def test_where_an_os_error_names_its_file(place, line):
    assert error_line(enospc(), filename=place) == line


def test_os_errors_without_a_file_or_a_reason():
    assert error_line(FileNotFoundError(2, "No such file or directory")) == \
        "No such file or directory"
    assert error_line(FileExistsError("out.aei: file already exists")) == \
        "out.aei: file already exists"
    # the CLI adds the file name where the system's text lacks it (quoted with escapes)
    exc = PermissionError(13, "Permission denied", "C:\\in\\a.png")
    assert error_line(exc, filename="errno") == \
        "[Errno 13] Permission denied: 'C:\\\\in\\\\a.png': C:\\in\\a.png"


def test_out_of_memory_is_said_plainly():
    assert error_line(MemoryError()) == OUT_OF_MEMORY
    assert error_line(MemoryError("Unable to allocate 12.0 GiB"), filename="errno") == \
        OUT_OF_MEMORY


def test_the_callers_file_name_is_dropped():
    assert without_name("x.png: file is empty", "x.png") == "file is empty"
    assert without_name("x.png: file is empty", "y.png") == "x.png: file is empty"
    assert without_name("x.png: file is empty", None) == "x.png: file is empty"
    assert error_line(ImageIOError("x.png: file is empty (0 bytes)"), name="x.png") == \
        "file is empty (0 bytes)"


def test_unexpected_errors_are_tagged_with_their_type_when_asked():
    assert error_line(ZeroDivisionError("division by zero")) == "division by zero"
    assert error_line(ZeroDivisionError("division by zero"), tag_unexpected=True) == \
        "ZeroDivisionError: division by zero"
    for expected in (ValueError("v"), OSError("o"), KeyError("k"), ImageIOError("i")):
        assert ":" not in error_line(expected, tag_unexpected=True)
