"""Persistent user settings (QSettings, organization and application "AE Studio").

The window reads and writes through :class:`Settings`, a thin typed wrapper, so tests can
inject a QSettings object that points into a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

__all__ = ["APPLICATION", "MAX_RECENT", "ORGANIZATION", "Settings", "default_qsettings"]

ORGANIZATION = "AE Studio"
APPLICATION = "AE Studio"
MAX_RECENT = 8

_GEOMETRY = "window/geometry"
_MODE = "mode"
_QUALITY = "quality"
_FOLDER = "lastFolder"
_SAVE_FOLDER = "lastSaveFolder"
_RECENT = "recentFiles"


def default_qsettings() -> QSettings:
    """The user's settings file (INI format, so ``QSettings.setPath`` can redirect it)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                     ORGANIZATION, APPLICATION)


def _as_list(value) -> list[str]:
    """QSettings gives a str for one-element lists and None for empty ones."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


class Settings:
    """Typed access to the few values AE Studio remembers between runs."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.qsettings = qsettings if qsettings is not None else default_qsettings()

    # -- window geometry ------------------------------------------------------------------
    def geometry(self) -> QByteArray | None:
        value = self.qsettings.value(_GEOMETRY)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_geometry(self, geometry: QByteArray) -> None:
        self.qsettings.setValue(_GEOMETRY, geometry)

    # -- mode and quality -----------------------------------------------------------------
    def mode(self) -> str | None:
        value = self.qsettings.value(_MODE)
        return str(value) if value else None

    def set_mode(self, mode: str) -> None:
        self.qsettings.setValue(_MODE, mode)

    def quality(self) -> int | None:
        try:
            value = int(self.qsettings.value(_QUALITY))
        except (TypeError, ValueError):
            return None
        return value if 1 <= value <= 100 else None

    def set_quality(self, quality: int) -> None:
        self.qsettings.setValue(_QUALITY, int(quality))

    # -- choices from a fixed list (theme, view layout, what the left side shows) ---------
    def choice(self, key: str, allowed: tuple[str, ...], default: str) -> str:
        """The stored value of ``key`` if it is one of ``allowed``, else ``default``."""
        value = self.qsettings.value(key)
        return str(value) if value in allowed else default

    def set_choice(self, key: str, value: str) -> None:
        self.qsettings.setValue(key, value)

    # -- numbers and switches (brush size, automatic strength, divider position) ----------
    def number(self, key: str, low: float, high: float) -> float | None:
        """The stored number of ``key`` if it lies in ``low..high``, else None."""
        try:
            value = float(self.qsettings.value(key))
        except (TypeError, ValueError):
            return None
        return value if low <= value <= high else None

    def flag(self, key: str) -> bool | None:
        """The stored switch of ``key`` (INI files give "true"/"false" strings), or None."""
        value = self.qsettings.value(key)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return None

    def set_value(self, key: str, value: float | bool) -> None:
        self.qsettings.setValue(key, value)

    # -- folders and recent files ---------------------------------------------------------
    def last_folder(self) -> str:
        return self.folder(_FOLDER)

    def remember_path(self, path: str | Path) -> None:
        """Remember the folder of a file chosen in an Open or Save dialog."""
        self.qsettings.setValue(_FOLDER, str(Path(path).resolve().parent))

    def last_save_folder(self) -> str:
        """The folder of the last file saved ("" when none, or when it is gone)."""
        return self.folder(_SAVE_FOLDER)

    def remember_saved(self, path: str | Path) -> None:
        """Remember where a file was saved: the next Save dialog starts there."""
        self.remember_path(path)
        self.set_folder(_SAVE_FOLDER, Path(path).resolve().parent)

    def folder(self, key: str, must_exist: bool = True) -> str:
        """The folder stored under ``key`` if it still exists (or need not), else ""."""
        value = self.qsettings.value(key)
        if not value or not isinstance(value, str):
            return ""
        return value if not must_exist or Path(value).is_dir() else ""

    def set_folder(self, key: str, folder: str | Path) -> None:
        self.qsettings.setValue(key, str(folder))

    def recent_files(self) -> list[str]:
        """Most recent first; files that no longer exist are dropped (and forgotten)."""
        stored = _as_list(self.qsettings.value(_RECENT))
        existing = [p for p in stored if Path(p).is_file()][:MAX_RECENT]
        if existing != stored:
            self._store_recent(existing)
        return existing

    def add_recent_file(self, path: str | Path) -> list[str]:
        p = str(Path(path).resolve())
        files = [p] + [f for f in self.recent_files() if f != p]
        self._store_recent(files[:MAX_RECENT])
        return files[:MAX_RECENT]

    def clear_recent_files(self) -> None:
        self._store_recent([])

    def _store_recent(self, files: list[str]) -> None:
        self.qsettings.setValue(_RECENT, list(files))

    def sync(self) -> None:
        self.qsettings.sync()
