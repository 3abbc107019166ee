"""Light and dark palettes that follow the system colour scheme (or the user's choice).

Qt reports the desktop's scheme through ``QStyleHints.colorScheme()`` (and a change signal);
where a platform reports none (plain X11, offscreen) the light palette is used. The Fusion
style is used so that both palettes look the same on every desktop.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

__all__ = ["THEMES", "ThemeFollower", "dark_palette", "light_palette", "repolish_style_sheets"]

THEMES = ("system", "light", "dark")


def light_palette() -> QPalette:
    return QApplication.style().standardPalette()


def dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor(30, 30, 30), QColor(45, 45, 48), QColor(230, 230, 230)
    disabled = QColor(127, 127, 127)
    for role, colour in ((QPalette.ColorRole.Window, window), (QPalette.ColorRole.WindowText, text),
                         (QPalette.ColorRole.Base, base),
                         (QPalette.ColorRole.AlternateBase, window),
                         (QPalette.ColorRole.ToolTipBase, window),
                         (QPalette.ColorRole.ToolTipText, text), (QPalette.ColorRole.Text, text),
                         (QPalette.ColorRole.Button, window),
                         (QPalette.ColorRole.ButtonText, text),
                         (QPalette.ColorRole.BrightText, QColor(255, 80, 80)),
                         (QPalette.ColorRole.Link, QColor(90, 160, 255)),
                         (QPalette.ColorRole.Highlight, QColor(60, 120, 215)),
                         (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
                         (QPalette.ColorRole.PlaceholderText, disabled),
                         # bevels, separators and the drop zone's dashes (Qt's defaults for
                         # these are a light theme's: a white line on the dark window)
                         (QPalette.ColorRole.Light, QColor(78, 78, 82)),
                         (QPalette.ColorRole.Midlight, QColor(62, 62, 66)),
                         (QPalette.ColorRole.Mid, QColor(120, 120, 124)),
                         (QPalette.ColorRole.Dark, QColor(24, 24, 26)),
                         (QPalette.ColorRole.Shadow, QColor(0, 0, 0))):
        p.setColor(role, colour)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


def repolish_style_sheets(app: QApplication) -> None:
    """Widgets with a style sheet keep the palette they were first polished with, so after a
    theme change they stayed in the old colours (a light combo box in the dark theme):
    setting their style sheet again polishes them with the new palette."""
    for widget in app.allWidgets():
        sheet = widget.styleSheet()
        if sheet:
            widget.setStyleSheet("")
            widget.setStyleSheet(sheet)


class ThemeFollower(QObject):
    """Applies ``theme`` (system, light or dark) and re-applies it when the system changes."""

    def __init__(self, app: QApplication, theme: str = "system") -> None:
        super().__init__(app)
        self.app = app
        self.theme = "system"
        app.setStyle("Fusion")
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_system_change)
        self.set_theme(theme)

    @staticmethod
    def system_is_dark() -> bool:
        return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark

    @property
    def is_dark(self) -> bool:
        return self.theme == "dark" or (self.theme == "system" and self.system_is_dark())

    def set_theme(self, theme: str) -> None:
        if theme not in THEMES:
            raise ValueError(f"unknown theme {theme!r}: use one of {', '.join(THEMES)}")
        self.theme = theme
        self.app.setPalette(dark_palette() if self.is_dark else light_palette())
        repolish_style_sheets(self.app)

    def _on_system_change(self, _scheme) -> None:
        if self.theme == "system":
            self.set_theme("system")
