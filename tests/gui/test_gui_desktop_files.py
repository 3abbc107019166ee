"""The Linux desktop integration files: desktop entry, MIME type and icon."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from app.gui import icon
from app.gui.app import DESKTOP_FILE_NAME
from app.spec.bitstream import MAGIC

RESOURCES = Path(__file__).resolve().parents[2] / "app" / "gui" / "resources"
NS = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}


def unescape(value: str) -> bytes:
    r"""shared-mime-info string escapes: \xHH, \ooo (octal), \n \r \t \\ and plain chars."""
    out = bytearray()
    for m in re.finditer(r"\\x([0-9a-fA-F]{1,2})|\\([0-7]{1,3})|\\(.)|(.)", value, re.S):
        hexa, octal, char, plain = m.groups()
        if hexa:
            out.append(int(hexa, 16))
        elif octal:
            out.append(int(octal, 8))
        elif char:
            out += {"n": b"\n", "r": b"\r", "t": b"\t"}.get(char, char.encode())
        else:
            out += plain.encode("latin-1")
    return bytes(out)


def test_unescape():
    assert unescape(r"\x8bAEI\r\n\x1a\n") == b"\x8bAEI\r\n\x1a\n"
    assert unescape(r"\213A\\") == b"\x8bA\\"


def test_desktop_entry_parses():
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(RESOURCES / f"{DESKTOP_FILE_NAME}.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Name"] == "AE Studio"
    assert entry["Exec"] == "aestudio %F"
    assert entry["Icon"] == "aestudio"
    mime = entry["MimeType"]
    assert mime.endswith(";")
    assert mime.split(";")[:-1] == ["application/x-aestudio-aei", "image/png", "image/jpeg",
                                   "image/webp"]
    assert entry["Categories"].endswith(";")


def test_mime_type_glob_and_magic_match_the_format():
    root = ET.parse(RESOURCES / "aestudio-aei.xml").getroot()
    (mime_type,) = root.findall("m:mime-type", NS)
    assert mime_type.get("type") == "application/x-aestudio-aei"
    assert [g.get("pattern") for g in mime_type.findall("m:glob", NS)] == ["*.aei"]
    (match,) = mime_type.findall("m:magic/m:match", NS)
    assert match.get("type") == "string" and match.get("offset") == "0"
    assert unescape(match.get("value")) == MAGIC


@pytest.mark.skipif(shutil.which("update-mime-database") is None,
                    reason="shared-mime-info is not installed")
def test_update_mime_database_compiles_the_magic(tmp_path):
    packages = tmp_path / "mime" / "packages"
    packages.mkdir(parents=True)
    shutil.copy(RESOURCES / "aestudio-aei.xml", packages)
    subprocess.run(["update-mime-database", str(tmp_path / "mime")], check=True,
                   capture_output=True, timeout=60)
    magic = (tmp_path / "mime" / "magic").read_bytes()
    assert b"[80:application/x-aestudio-aei]\n>0=\x00\x08" + MAGIC in magic
    assert "application/x-aestudio-aei:*.aei" in (tmp_path / "mime" / "globs2").read_text()


def test_icon_png_is_the_drawn_icon(qapp, tmp_path):
    shipped = QImage(str(RESOURCES / "aestudio.png"))
    assert shipped.width() == shipped.height() == 256
    out = tmp_path / "icon.png"
    assert icon.main([str(out)]) == 0
    rendered = QImage(str(out))
    assert rendered.size() == shipped.size()
    # same drawing (the text may differ with the fonts installed): compare the tile outside
    # the letters and the transparent corners
    for x, y in ((0, 0), (255, 255), (30, 128), (128, 30), (225, 128), (128, 225)):
        assert rendered.pixelColor(x, y) == shipped.pixelColor(x, y), (x, y)
    assert shipped.pixelColor(0, 0).alpha() == 0 and shipped.pixelColor(30, 128).alpha() == 255
    assert icon.main([str(tmp_path / "small.png"), "32"]) == 0
    assert QImage(str(tmp_path / "small.png")).width() == 32
    assert icon.main([]) == 2
