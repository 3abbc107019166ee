"""The widgets' side of :class:`app.core.document.Document`: every readout is drawn from it.

The window changes the document (open, start, finish, cancel, fail); this module listens to
the document's events and redraws the window title, the panels' result lines, the same-size
line, the captions and the two sides of the comparison. Nothing here keeps state of its own
about results, so a readout can only be as old as the document says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from app.core.compare.sides import KIND_LABELS, side_caption
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
# a split divider right of this hides (nearly) all of the result side
REVEAL_AT = 0.9


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
        self._states = dict(win.document.modes)  # to tell a result that just arrived
        doc = win.document
        doc.image_changed.connect(self._on_image)
        doc.mode_changed.connect(self._on_mode)
        doc.same_size_changed.connect(self._on_same_size)
        win.heatmaps.ready.connect(self.render_panes)

    # ------------------------------------------------------------------ document events
    def _on_image(self) -> None:
        win, doc = self.win, self.win.document
        win.setWindowTitle(window_title(doc.source.name))  # an .aei being decoded too
        win.show_empty_state(not doc.has_image and not doc.decoding)
        win.denoise_panel.forget_estimate()
        self._overlay_mode = None
        combo = win.compress_panel.compare_combo
        combo.setEnabled(not doc.source.is_decoded)
        combo.setToolTip(self._compare_tip if not doc.source.is_decoded else "A decoded .aei file has no original to encode with a classic "
                              "codec: compress it again to compare")
        if doc.has_image:
            win.compare_view.set_images(doc.image, None, self.left_caption(), "")
        elif doc.decoding:  # no pixels yet: the captions name the file being decoded
            win.compare_view.set_images(None, None, *self.decoding_captions())

    def _on_mode(self, mode: str) -> None:
        s = self.win.document.modes[mode]
        # a finished job makes a new state; cancels, notes and stale marks change the old one
        arrived = s is not self._states.get(mode) and s.result is not None and not s.busy
        self._states[mode] = s
        self.render_panel(mode)
        self.win.panel_fit.fit()  # a longer result line may need another text line
        if mode == self.win.mode:
            if arrived:
                self._reveal_result(mode)
            self.render_panes()

    def _reveal_result(self, mode: str) -> None:
        """A denoised or inpainted result arrived with the split divider at the right (as
        when the whole image was painted on): move the divider to the middle, and say so, so
        that pressing the button visibly did something. Compress results come with every
        slider move, and there the divider is left where the user put it."""
        view = self.win.compare_view
        if mode == "compress" or view.layout_mode != "split" or view.divider < REVEAL_AT:
            return
        view.set_divider(0.5)
        self.win.statusBar().showMessage(
            f"{CAPTIONS[mode]} result on the right: the divider moved to the middle "
            "(keys 1, 2 and 3 move it).", 8000)

    def _on_same_size(self) -> None:
        doc, panel = self.win.document, self.win.compress_panel
        lines = []
        for side in ("left", "right"):
            same = doc.classic[side]
            if not doc.can_compare_classic:
                continue
            prefix = "" if side == "left" else "Right: "
            # a side that never started encoding has no format yet: its choice names it
            fmt = same.format or doc.sides[side].kind
            name = KIND_LABELS.get(fmt, fmt.upper())
            if same.busy:
                lines.append(f"{prefix}Encoding {name}…")
            elif same.result is not None:
                lines.append(prefix + format_same_size(same.result))
            elif same.note:
                lines.append(f"{prefix}{name}: {same.note}")
        panel.same_size_label.setText("\n".join(lines))
        self.win.panel_fit.fit()
        for side, controls in (("left", panel.left_side), ("right", panel.right_side)):
            if controls.choice() != doc.sides[side]:
                controls.show_choice(doc.sides[side])
        self.render_panel("compress")  # the AE Studio line shows only beside AE Studio
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
            hint = self.hints[mode]
            if mode == "compress" and doc.has_image:
                hint = PLACEHOLDERS[mode].replace("\n", " ")
            panel.show_message(s.note or hint)
            return
        if mode == "compress" and "aestudio" not in (doc.sides["left"].kind,
                                                     doc.sides["right"].kind):
            panel.show_message(s.note)  # neither side shows AE Studio: no line about its file
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
        role = doc.source.role + (f" · step {doc.source.step}" if doc.source.step else "")
        return f"{role} · {doc.source.name} · {w}×{h}".replace(" ·  ·", " ·")

    def decoding_captions(self) -> tuple[str, str]:
        """(left, right) captions while an .aei file is decoded."""
        name = self.win.document.source.name
        return f"{name} · decoding…", f"Decoding {name}…"

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
            left, right = self.decoding_captions() if doc.decoding else ("", "")
            view.set_placeholder(right)
            if doc.decoding:
                view.set_left(None, left)
                view.set_right(None, right)
            return
        self._render_left(mode)
        s = doc.modes[mode]
        view.set_placeholder(s.busy_text if s.busy else PLACEHOLDERS[mode])
        if win.flashing_original:
            view.set_right(doc.image, f"{doc.source.role} (release Space)")
            return
        # a preview while the job runs, and after a first job was stopped (said so)
        if (mode == "compress" and (s.busy or s.result is None) and s.preview is not None
                and doc.sides["right"].kind == "aestudio"):
            image = win.compress_preview.image_for(s.preview)
            if image is not None:
                view.prime(s.preview, image)
            view.set_right(s.preview, s.preview_text)
            return
        result = s.result
        if mode == "compress" and doc.sides["right"].kind != "aestudio":
            result, caption = self.side_view("right")
            if result is None or not win.showing_heatmap:
                view.set_right(result, caption)
                return
        if result is None:
            view.set_right(None, self.right_caption(mode))
            return
        heat = None
        if win.showing_heatmap:
            heat = win.heatmaps.heatmap_for(doc.image, result)
            if heat is None:
                win.heatmaps.request(doc.image, result)  # redrawn on ``ready``
        if heat is not None:
            image = win.heatmaps.image_for(heat)
            if image is not None:
                view.prime(heat, image)
            view.set_right(heat, f"Difference |{doc.source.role.lower()} − "
                                 f"{CAPTIONS[mode].lower()}| ×{DEFAULT_GAIN:g}")
        elif win.showing_heatmap:
            view.set_right(result, f"{self.right_caption(mode)} · computing the difference…")
        elif mode == "compress":
            view.set_right(result, self.side_view("right")[1])
        else:
            view.set_right(result, self.right_caption(mode))

    def _render_left(self, mode: str) -> None:
        """The image, or in Compress mode what the left side is set to show. The left pane
        carries the split view, so while its side has no pixels yet it shows the image with
        a caption that says so."""
        win, doc = self.win, self.win.document
        if mode == "compress":
            pixels, caption = self.side_view("left")
            if pixels is None:
                pixels = doc.image
                caption += f" · showing the {doc.source.role.lower()} meanwhile"
            win.compare_view.set_left(pixels, caption)
        else:
            win.compare_view.set_left(doc.image, self.left_caption())

    def side_view(self, side: str):
        """(pixels or None, caption) of one side in Compress mode: its kind, bytes, how much
        smaller than the original file and PSNR (app/core/compare/sides.py)."""
        doc = self.win.document
        choice = doc.sides[side]
        original = doc.source.file_bytes
        if choice.kind == "original" or (choice.is_codec and not doc.can_compare_classic):
            return doc.image, side_caption("original", original, None,
                                           base=self.left_caption())
        if choice.kind == "aestudio":
            s = doc.modes["compress"]
            base = self.right_caption("compress")
            if s.result is None or s.info is None or s.busy or s.stale:
                return s.result, base
            info = s.info
            return s.result, side_caption("aestudio", info.get("bytes"), original,
                                          info.get("psnr"), info.get("quality"),
                                          base=f"{base} · AE Studio")
        same = doc.classic[side]
        name = KIND_LABELS[choice.kind]
        if same.result is not None:
            r = same.result
            return r["pixels"], side_caption(choice.kind, r["bytes"], original, r["psnr"],
                                             r["quality"], r.get("fits", True))
        if same.busy:
            return None, f"{name} (encoding…)"
        if same.note:
            return None, f"{name}: {same.note}"
        return None, f"{name} (waits for the other side's file)"
