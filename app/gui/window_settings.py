"""The main window's saved preferences: restored at start, stored as they change and on close.

A mixin of :class:`app.gui.main_window.MainWindow`, kept apart so each module stays small. The
layout and theme choices live here because choosing one also stores it.
"""

from __future__ import annotations

from app.core.document import MODES

from .panels import COMPARE_CHOICES, MAX_SIGMA
from .theme import THEMES
from .widgets.compare_view import LAYOUTS

__all__ = ["SettingsMixin"]

_LAYOUT_KEY, _THEME_KEY, _COMPARE_KEY = "view/layout", "view/theme", "compress/compareWith"
_BRUSH_KEY, _AUTO_KEY, _DIVIDER_KEY = "inpaint/brushRadius", "denoise/automatic", "view/divider"
_SIGMA_KEY = "denoise/sigma"  # the chosen σ (while automatic, the slider shows the estimate)


class SettingsMixin:
    """Reading and writing the window's QSettings-backed preferences."""

    def set_layout(self, layout: str) -> None:
        """``split`` (one image with a divider) or ``side-by-side`` (two synced panes)."""
        self.compare_view.set_layout(layout)
        self.split_action.setChecked(layout == "split")
        self.settings.set_choice(_LAYOUT_KEY, layout)

    def set_theme(self, theme: str) -> None:
        """``system`` (follow the desktop's light or dark scheme), ``light`` or ``dark``."""
        if self.theme is not None:
            self.theme.set_theme(theme)
        self.theme_actions[theme].setChecked(True)
        self.settings.set_choice(_THEME_KEY, theme)

    def _store_choices_as_made(self) -> None:
        """Store these choices as soon as they change; the rest are saved on close."""
        self.compress_panel.qualityChanged.connect(self.settings.set_quality)
        self.compress_panel.compareWithChanged.connect(self._on_compare_with_changed)
        self.inpaint_panel.brushSizeChanged.connect(
            lambda r: self.settings.set_value(_BRUSH_KEY, int(r)))
        self.denoise_panel.auto_check.toggled.connect(
            lambda on: self.settings.set_value(_AUTO_KEY, bool(on)))
        self.denoise_panel.strengthChanged.connect(self._store_sigma)

    def _store_sigma(self) -> None:
        sigma = self.denoise_panel.sigma
        if sigma is not None:  # None: automatic, the slider only shows the estimate
            self.settings.set_value(_SIGMA_KEY, int(sigma))

    def _on_compare_with_changed(self, key: str) -> None:
        # the left side's choice itself reaches the document through left_side.changed
        self.settings.set_choice(_COMPARE_KEY, key)

    def _restore_settings(self) -> None:
        geometry = self.settings.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        mode = self.settings.mode()
        if mode in MODES:
            self.set_mode(mode)
        quality = self.settings.quality()
        if quality is not None:
            self.quality_slider.setValue(quality)
        self.set_layout(self.settings.choice(_LAYOUT_KEY, LAYOUTS, "split"))
        self.set_theme(self.settings.choice(_THEME_KEY, THEMES, "system"))
        self.compress_panel.set_compare_with(
            self.settings.choice(_COMPARE_KEY, tuple(COMPARE_CHOICES), "original"))
        brush = self.settings.number(_BRUSH_KEY, 1, 200)
        if brush is not None:
            self.inpaint_panel.brush_spin.setValue(round(brush))
        sigma = self.settings.number(_SIGMA_KEY, 0, MAX_SIGMA)
        if sigma is not None:
            self.denoise_panel.strength_slider.setValue(round(sigma))
        automatic = self.settings.flag(_AUTO_KEY)
        if automatic is not None:
            self.denoise_panel.auto_check.setChecked(automatic)
        divider = self.settings.number(_DIVIDER_KEY, 0.0, 1.0)
        if divider is not None:
            self.compare_view.set_divider(divider)

    def save_settings(self) -> None:
        self.settings.set_geometry(self.saveGeometry())
        self.settings.set_mode(self.mode)
        self.settings.set_quality(self.compress_panel.quality)
        self.settings.set_value(_BRUSH_KEY, self.inpaint_panel.brush_radius)
        self.settings.set_value(_AUTO_KEY, self.denoise_panel.auto_check.isChecked())
        self._store_sigma()
        self.settings.set_value(_DIVIDER_KEY, float(self.compare_view.divider))
        self.settings.sync()
