"""The widgets' side of :class:`app.core.document.Document`: every readout is drawn from it.

The window changes the document (open, start, finish, cancel, fail); this module listens to
the document's events and redraws the window title, the panels' result lines, the same-size
line, the captions and the two sides of the comparison. Nothing here keeps state of its own
about results, so a readout can only be as old as the document says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from app.core.document import ModeState

from .heatmap import DEFAULT_GAIN
from .mask import mask_overlay
from .panels import format_compress_result, format_same_size

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["APP_TITLE", "CAPTIONS", "DocumentView", "progress_text", "window_title"]

APP_TITLE = "AE Studio"
CAPTIONS = {"compress": "Reconstruction", "denoise": "Denoised", "inpaint": "Inpainted"}
# what the right side says while a mode has no result
PLACEHOLDERS = {
    "compress": "Not compressed yet.\nPress Compress or move the quality slider.",
    "denoise": "Not denoised yet.\nPress Denoise.",
    "inpaint": "Not inpainted yet.\nPaint over what to remove on the left, then press Inpaint.",
}
STALE = {"compress": "from earlier settings", "denoise": "from earlier settings",
         "inpaint": "the mask changed since"}


def progress_text(done: int, total: int, elapsed: float) -> str:
    """``"3 / 12 · about 9 s left"`` for the progress bar (no estimate before the first
    step finished)."""
    text = f"{done} / {total}"
    if 0 < done < total and elapsed > 0:
        left = elapsed / done * (total - done)
        text += f" · about {left:.0f} s left" if left < 90 else f" · about {left / 60:.0f} min left"
    return text


def window_title(name: str) -> str:
    """``"x.png — AE Studio"``: the document first, as desktop windows are named."""
    return f"{name} — {APP_TITLE}" if name else APP_TITLE


class DocumentView(QObject):
    """Binds a main window's widgets to its document."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.panels = {"compress": win.compress_panel, "denoise": win.denoise_panel,
                       "inpaint": win.inpaint_panel}
        # the panels' first lines are their idle hints: shown again for a new image
        self.hints = {m: p.result_label.text() for m, p in self.panels.items()}
        self._compare_tip = win.compress_panel.compare_combo.toolTip()
        self._overlay_mode: str | None = None
        doc = win.document
        doc.image_changed.connect(self._on_image)
        doc.mode_changed.connect(self._on_mode)
        doc.same_size_changed.connect(self._on_same_size)
        win.heatmaps.ready.connect(self.render_panes)

    # ------------------------------------------------------------------ document events
    def _on_image(self) -> None:
        win, doc = self.win, self.win.document
        win.setWindowTitle(window_title(doc.source.name if doc.has_image else ""))
        win.show_empty_state(not doc.has_image)
        self._overlay_mode = None
        combo = win.compress_panel.compare_combo
        combo.setEnabled(not doc.source.is_decoded)
        combo.setToolTip(self._compare_tip if not doc.source.is_decoded else "A decoded .aei file has no original to encode with a classic "
                              "codec: compress it again to compare")
        if doc.has_image:
            win.compare_view.set_images(doc.image, None, self.left_caption(), "")

    def _on_mode(self, mode: str) -> None:
        self.render_panel(mode)
        if mode == self.win.mode:
            self.render_panes()

    def _on_same_size(self) -> None:
        doc, label = self.win.document, self.win.compress_panel.same_size_label
        same = doc.same_size
        if not doc.can_compare_classic:
            label.setText("")
        elif same.busy:
            size = len(doc.aei_data) if doc.aei_data is not None else 0
            label.setText(f"Encoding {same.format.upper()} at {size:,} bytes…")
        elif same.result is not None:
            label.setText(format_same_size(same.result))
        elif same.note:
            label.setText(f"{same.format.upper()}: {same.note}")
        else:
            label.setText("")
        if self.win.mode == "compress":
            self.render_panes()

    # ------------------------------------------------------------------ panels
    def render_panel(self, mode: str) -> None:
        doc, panel = self.win.document, self.panels[mode]
        s = doc.modes[mode]
        if s.busy:
            text = s.busy_text
            if s.result is not None:
                text += " The earlier result stays on the right until the new one is ready."
            panel.show_message(text)
            return
        if s.info is None:
            panel.show_message(s.note or self.hints[mode])
            return
        text = self.result_text(mode, s)
        if s.note:
            text = f"{s.note} Still showing the earlier result: {text}"
        panel.show_message(text)
        if mode == "denoise" and s.info.get("automatic"):
            self._follow_estimate(float(s.info["sigma"]))

    def result_text(self, mode: str, s: ModeState) -> str:
        """The panel's line for a finished result (the panels' own formats)."""
        info = s.info or {}
        if mode == "compress":
            text = format_compress_result(info)
            if info.get("decoded_file"):
                name = self.win.document.source.name
                return (f"{name}: {text} (decoded; no original to compare). Move the slider "
                        "to re-compress it.")
            return text
        panel = self.panels[mode]
        panel.show_result(info)
        return panel.result_label.text()

    def _follow_estimate(self, sigma: float) -> None:
        """Automatic strength: the slider shows the estimated σ (without re-running)."""
        panel = self.win.denoise_panel
        slider = panel.strength_slider
        slider.blockSignals(True)
        slider.setValue(round(sigma))
        slider.blockSignals(False)
        if panel.auto_check.isChecked():
            panel.strength_label.setText(f"auto ({sigma:.1f})")

    # ------------------------------------------------------------------ the comparison
    def left_caption(self) -> str:
        doc = self.win.document
        h, w = doc.image.shape[:2]
        return f"{doc.source.role} · {doc.source.name} · {w}×{h}".replace(" ·  ·", " ·")

    def right_caption(self, mode: str) -> str:
        doc = self.win.document
        s = doc.modes[mode]
        caption = CAPTIONS[mode]
        if mode == "compress" and s.info is not None and s.info.get("decoded_file"):
            caption = "Decoded"
        if s.result is None:
            return f"{caption} (computing…)" if s.busy else f"{caption} (not computed yet)"
        if s.busy:
            return f"{caption} · earlier result, updating…"
        if s.stale:
            return f"{caption} · {STALE[mode]}"
        return caption

    def render_panes(self) -> None:
        """Both sides, overlay and brush for the current mode."""
        win, doc, view = self.win, self.win.document, self.win.compare_view
        mode = win.mode
        inpaint = mode == "inpaint"
        mask = win.mask_editor.mask
        view.set_brush_enabled(inpaint and doc.has_image)
        if mode != self._overlay_mode:  # mask edits redraw the overlay themselves
            self._overlay_mode = mode
            view.set_overlay(mask_overlay(mask) if inpaint and mask is not None else None)
        if not doc.has_image:
            view.set_placeholder("")
            return
        self._render_left(mode)
        s = doc.modes[mode]
        view.set_placeholder(s.busy_text if s.busy else PLACEHOLDERS[mode])
        if win.flashing_original:
            view.set_right(doc.image, f"{doc.source.role} (release Space)")
            return
        if s.result is None:
            view.set_right(None, self.right_caption(mode))
            return
        heat = None
        if win.showing_heatmap:
            heat = win.heatmaps.heatmap_for(doc.image, s.result)
            if heat is None:
                win.heatmaps.request(doc.image, s.result)  # redrawn on ``ready``
        if heat is not None:
            image = win.heatmaps.image_for(heat)
            if image is not None:
                view.prime(heat, image)
            view.set_right(heat, f"Difference |{doc.source.role.lower()} − "
                                 f"{CAPTIONS[mode].lower()}| ×{DEFAULT_GAIN:g}")
        elif win.showing_heatmap:
            view.set_right(s.result, f"{self.right_caption(mode)} · computing the difference…")
        else:
            view.set_right(s.result, self.right_caption(mode))

    def _render_left(self, mode: str) -> None:
        """The image, or in Compress mode the classic codec at the same size if chosen."""
        win, doc = self.win, self.win.document
        same = doc.same_size.result
        classic = win.compress_panel.compare_with != "original"
        if mode == "compress" and same is not None and classic and doc.can_compare_classic:
            caption = (f"{same['format'].upper()} q{same['quality']} · {same['bytes']:,} bytes · "
                       f"{same['psnr']:.2f} dB")
            win.compare_view.set_left(same["pixels"], caption)
        else:
            win.compare_view.set_left(doc.image, self.left_caption())
