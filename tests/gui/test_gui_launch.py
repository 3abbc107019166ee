"""Launching the GUI as a desktop does: the entry's ``Exec`` line with real files, run in a
subprocess on the offscreen platform with the ``AESTUDIO_QUIT_AFTER_LOAD`` hook (the window
reports what it loaded and quits)."""

from __future__ import annotations

import configparser
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from app.gui import app as gui_app
from app.gui.files import AEI_SUFFIX, IMAGE_SUFFIXES
from app.main import GUI_SUFFIXES
from tests.conftest import REPO

DESKTOP_FILE = REPO / "app" / "gui" / "resources" / f"{gui_app.DESKTOP_FILE_NAME}.desktop"
GOLDEN = REPO / "tests" / "golden" / "codec-hyperprior-v15-q85.aei"


def launcher() -> list[str]:
    """The installed ``aestudio`` script next to this Python, else ``python -m app``."""
    script = Path(sys.executable).parent / "aestudio"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "app"]


def exec_argv(files: list[Path]) -> list[str]:
    """The entry's Exec line expanded as a desktop does: ``%F`` becomes the files, one
    argument each (quoted by the spec's rules: shlex handles its subset)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(DESKTOP_FILE, encoding="utf-8")
    words = shlex.split(parser["Desktop Entry"]["Exec"])
    assert "%F" in words, "the entry must pass the opened files"
    argv: list[str] = []
    for word in words:
        argv += [str(f) for f in files] if word == "%F" else [word]
    assert argv[0] == "aestudio"
    return launcher() + argv[1:]


def run_entry(files: list[Path], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "AESTUDIO_MODELS"}
    env.update(QT_QPA_PLATFORM="offscreen", AESTUDIO_QUIT_AFTER_LOAD="1",
               XDG_CONFIG_HOME=str(tmp_path / "config"), HOME=str(tmp_path))
    return subprocess.run(exec_argv(files), cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)


def test_desktop_entry_opens_an_image(write_image, tmp_path):
    path = write_image("photo from the file manager.png")
    proc = run_entry([path], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "loaded: photo from the file manager.png 96x64 (1 of 1)"


def test_desktop_entry_opens_an_aei_file_and_a_list(write_image, tmp_path):
    aei = tmp_path / "golden.aei"
    aei.write_bytes(GOLDEN.read_bytes())
    proc = run_entry([aei, write_image("second.png")], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "loaded: golden.aei 64x48 (1 of 2)"


def test_a_plain_launch_opens_the_empty_state_and_runs_nothing(tmp_path):
    proc = run_entry([], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "loaded: nothing (empty state)"


@pytest.mark.parametrize("gui", [[], ["gui"]])
def test_a_folder_opens_the_window_with_batch_on_it(write_image, tmp_path, gui):
    """``aestudio DIR`` and ``aestudio gui DIR``: the window, with Batch on the folder (not a
    "Cannot open …: is a folder" error)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    write_image("photos/a.png")
    env = {k: v for k, v in os.environ.items() if k != "AESTUDIO_MODELS"}
    env.update(QT_QPA_PLATFORM="offscreen", AESTUDIO_QUIT_AFTER_LOAD="1",
               XDG_CONFIG_HOME=str(tmp_path / "config"), HOME=str(tmp_path))
    proc = subprocess.run(launcher() + gui + [str(folder)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "loaded: batch on photos (task compress)"


def test_desktop_entry_reports_a_file_it_cannot_open(tmp_path):
    proc = run_entry([tmp_path / "gone.png"], tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.startswith("error: Cannot open gone.png")


def test_launcher_suffixes_are_the_ones_the_window_opens():
    assert sorted(GUI_SUFFIXES) == sorted((AEI_SUFFIX, *IMAGE_SUFFIXES))


def test_window_titles_do_not_repeat_the_application_name(qapp, monkeypatch):
    """Qt appends a set application display name to every window title; the titles already
    start with it ("AE Studio — x.png — AE Studio" on X11 and Windows)."""
    calls = []
    monkeypatch.setattr(QApplication, "setApplicationDisplayName",
                        lambda *a: calls.append(a))
    assert gui_app.create_application() is QApplication.instance()
    assert calls == []


@pytest.mark.parametrize("qt_platform", ["xcb", ""])
def test_a_display_that_does_not_answer_gives_one_line(tmp_path, qt_platform):
    """DISPLAY set, no X server behind it: Qt's platform plugin fails (qFatal, abort 134
    before); the launcher prints one line and exits 1."""
    display = next(f":{n}" for n in range(917, 999) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "DISPLAY")}
    env.update(DISPLAY=display, XDG_CONFIG_HOME=str(tmp_path))
    if qt_platform:
        env["QT_QPA_PLATFORM"] = qt_platform
    proc = subprocess.run(launcher() + ["gui"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("aestudio: error: cannot open the desktop app:")
    assert display in proc.stderr
