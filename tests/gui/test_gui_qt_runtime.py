"""The installed Qt binding must not corrupt the interpreter.

PySide6 6.12.0 on Python 3.11 releases a reference to ``None`` on every call of a Qt method
that returns nothing; after a few thousand calls None's count reaches zero and the process
aborts ("none_dealloc: deallocating None"). pyproject.toml keeps that combination out; this
test catches it (or a new release with the same fault) on the machine that runs the tests.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QTimer


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12")
def test_void_qt_calls_keep_none_alive(qapp):
    timer = QTimer()
    before = sys.getrefcount(None)
    for _ in range(500):
        timer.setInterval(10)
        qapp.processEvents()
    after = sys.getrefcount(None)
    assert after >= before - 50, f"None lost {before - after} references in 1,000 Qt calls"
