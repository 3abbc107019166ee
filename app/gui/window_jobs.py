"""The main window's image jobs: start compress, denoise and inpaint, take in their results.

A mixin of :class:`app.gui.main_window.MainWindow`, kept apart so each module stays small. The
work runs in the window's ``controller``; results and failures go to its ``document``, from
which :mod:`app.gui.document_view` draws every readout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from app.core.compare.sides import SIDES
from app.core.document import Source
from app.spec.bitstream import unpack

__all__ = ["JobsMixin"]

# Compress mode opened while another mode's job runs: the app runs one job at a time, so the
# compress waits for it (and starts when it ends) instead of cancelling what the user started
WAITS = "Compression starts when the {} ends."
WAITS_PREFIX = WAITS.split("{}")[0]
JOB_NOUNS = {"denoise": "denoising", "inpaint": "inpainting"}
# what a classic side says when the AE Studio file it waited for will not come
NOT_ENCODED = {
    "cancelled": "not encoded (the AE Studio compress was cancelled)",
    "target": "not encoded (the AE Studio file could not be made at this size)",
    "failed": "not encoded (the AE Studio compress failed)",
}
TARGET_HINT = (" The Target size field still says {}, too small for this image: raise it, or "
               "clear it (moving the quality slider clears it) to compress at a quality.")


class JobsMixin:
    """Job requests from the panels and the controller's answers, for the main window."""

    def compress_now(self) -> None:
        """Compress with the panel's settings: the target size while one is filled in (it
        stays in force for the next image, as typed), else the quality."""
        target = self._target_in_force()
        if target is not None:
            self.compress_to_size(target)
        elif self._require_image():
            quality = self.compress_panel.quality
            self.document.start("compress", f"Compressing at quality {quality}…")
            self.controller.compress(self.current_pixels, quality)

    def compress_to_size(self, target_bytes: int) -> None:
        """Compress at the best quality whose file fits ``target_bytes``."""
        if self._require_image():
            self.document.start("compress",
                                f"Finding the best quality for {target_bytes:,} bytes…")
            self.controller.compress(self.current_pixels, self.compress_panel.quality,
                                     target_bytes=target_bytes)

    def _target_in_force(self) -> int | None:
        """The target size filled in, if it reads as one (a quality chosen by hand clears it,
        so a size left in the field is always the one in use)."""
        if not self.compress_panel.target_edit.text().strip():
            return None
        try:
            return self.compress_panel.target_bytes()
        except ValueError:
            return None

    def compress_if_due(self) -> None:
        """Compress mode with an image and no compression of it: start one, or, while another
        mode's job runs, say that it starts when that job ends."""
        doc = self.document
        s = doc.modes["compress"]
        if self.mode != "compress" or not doc.has_image or s.computed or s.busy:
            return
        running = [m for m, other in doc.modes.items() if other.busy]
        if running:
            self._note_compress_waits(running[0])
        else:
            self.compress_now()

    def _note_compress_waits(self, mode: str) -> None:
        """Another mode's job starts on an image not compressed yet: Compress mode, opened
        meanwhile, says it waits (the tab switch leaves a running job alone)."""
        s = self.document.modes["compress"]
        if self.document.has_image and not s.computed and not s.busy:
            self.document.set_note("compress", WAITS.format(JOB_NOUNS.get(mode, mode)))

    def _job_ended(self) -> None:
        """A denoise or inpaint ended (done, cancelled or failed): a compress that waited for
        it starts now if Compress mode is shown, else it starts when the mode is opened."""
        s = self.document.modes["compress"]
        if s.busy or not s.note.startswith(WAITS_PREFIX):
            return
        self.document.set_note("compress", "")
        self.compress_if_due()

    def _show_side_qualities(self) -> None:
        """A side encoded at the other side's size shows the quality that size took."""
        panel = self.compress_panel
        for side, controls in (("left", panel.left_side), ("right", panel.right_side)):
            result = self.document.classic[side].result
            controls.show_in_use(None if result is None else int(result["quality"]))

    def _show_progress_note(self, _done: int, _total: int) -> None:
        """A compress's steps and time left; named as the compress's when another mode is
        shown, whose model the status bar names beside it."""
        note = self.controller.progress_note
        if note and hasattr(self, "progress_label"):
            self.progress_label.setText(note if self.mode == "compress" else f"Compress: {note}")

    def denoise_now(self) -> None:
        if self._require_image():
            self.document.start("denoise", "Denoising…")
            self._note_compress_waits("denoise")
            self.controller.denoise(self.current_pixels, self.denoise_panel.sigma,
                                    self.denoise_panel.passes)

    def inpaint_now(self) -> None:
        if not self._require_image():
            return
        if not self.mask_editor.has_holes:
            self.show_error("Paint the areas to fill on the left image, or load a mask, first.")
            return
        self.document.start("inpaint", "Inpainting…")
        self._note_compress_waits("inpaint")
        self.controller.inpaint(self.current_pixels, self.mask_editor.mask.copy(),
                                self.inpaint_panel.passes)

    def _require_image(self) -> bool:
        if self.current_pixels is None:
            self.show_error("Open an image first (File ▸ Open… or drop a file here).")
            return False
        return True

    def _on_quality_changed(self, quality: int) -> None:
        # a quality chosen by hand replaces the target size: the field no longer applies
        self.compress_panel.target_edit.clear()
        if self.current_pixels is not None:
            self.document.start("compress", f"Compressing at quality {quality}…")
            self.controller.request_compress(self.current_pixels, quality,
                                             settled=not self.quality_slider.isSliderDown())

    def _on_compressed(self, result: dict[str, Any]) -> None:
        info = dict(result)  # the measures (with references to the pixels and file)
        info["original_bytes"] = self.document.source.file_bytes
        if result.get("target_bytes"):
            self.compress_panel.set_quality_silently(result["quality"])
        reconstruction = result["reconstruction"]
        self.document.finish("compress", reconstruction, info, result["data"])
        self._request_same_size()
        self._update_model_label()
        self.controller.ms_ssim(self.current_pixels, reconstruction,
                                lambda value: self._on_ms_ssim(reconstruction, value))

    def _on_ms_ssim(self, reconstruction: np.ndarray, value: float | None) -> None:
        """The MS-SSIM of the reconstruction shown, once measured: added to its readout."""
        s = self.document.modes["compress"]
        if value is not None and s.result is reconstruction and s.info is not None:
            s.info["ms_ssim"] = value
            self.document.mode_changed.emit("compress")

    def _request_same_size(self) -> None:
        """Encode the classic-codec sides that need it (app/gui/classic_encoder.py)."""
        self.classic_encoder.refresh()

    def _on_strength_changed(self) -> None:
        """A new strength re-runs the denoiser (debounced) once there is a result to update."""
        if self.result_pixels("denoise") is not None:
            self.document.start("denoise", "Denoising…")
            self._note_compress_waits("denoise")
            self.controller.request_denoise(self.current_pixels, self.denoise_panel.sigma,
                                            self.denoise_panel.passes)

    def _on_decoded(self, result: dict[str, Any]) -> None:
        pixels, name = result["pixels"], result["name"]
        path = self._decoding.pop(name, None)
        self.set_image_from_aei(pixels, name, result["data"], result["seconds"],
                                result.get("model_id", ""), path)
        self.set_mode("compress")  # after the result is stored: no automatic re-compress
        quality = self.document.modes["compress"].info.get("quality")
        if quality is not None:  # the slider says what the file was made at
            self.compress_panel.set_quality_silently(quality)
        self._update_model_label()
        self.statusBar().showMessage(f"Decoded {name}", 5000)
        if path is not None:
            self._add_recent(path)  # only once it decoded: a broken file is not "recent"

    def set_image_from_aei(self, pixels: np.ndarray, name: str, data: bytes = b"",
                           decode_seconds: float = 0.0, model_id: str = "",
                           path: Path | None = None) -> None:
        """A decoded .aei: like :meth:`set_image` without starting a compress; its measures
        are the file's size and the *decode* time."""
        self.controller.reset()
        self.heatmaps.clear()
        self.mask_editor.reset(pixels.shape)
        try:
            quality = unpack(data).quality
        except ValueError:  # test bytes, not a real file: no quality to show
            quality = None
        self.document.open_decoded(pixels, Source("aei", name, path), data, decode_seconds,
                                   model_id, quality)

    def _on_denoised(self, result: dict[str, Any]) -> None:
        self.document.finish("denoise", result["pixels"], result)
        self._update_model_label()
        self._job_ended()

    def _on_inpainted(self, result: dict[str, Any]) -> None:
        self.document.finish("inpaint", result["pixels"], result)
        self._update_model_label()
        self._job_ended()

    def _on_failed(self, message: str) -> None:
        if self._decoding:  # an .aei being decoded failed: say which file
            name = list(self._decoding)[-1]
            self._decoding.clear()
            if name not in message:
                message = f"Cannot open {name}: {message}"
            self.document.fail(message)
            self.show_error(message)  # no panel tells of a file that did not open
            return
        # a job's failure is told once, in its panel, as a sentence that the panel's next
        # one ("Still showing the earlier result: …") can follow
        message = message if message.rstrip().endswith((".", "!", "?", "…")) else f"{message}."
        # a target size that no quality reaches: say that the field is the cause
        too_small = ("too small" in message and self.document.modes["compress"].busy
                     and self._target_in_force() is not None)
        if too_small:
            message += TARGET_HINT.format(self.compress_panel.target_edit.text().strip())
        self.last_error = message
        self.document.fail(message)
        self._unblame_classic_sides(message)
        if too_small:
            self._note_unencoded_sides("target")
        self._job_ended()

    def _unblame_classic_sides(self, message: str) -> None:
        """A classic side stopped by the AE Studio job's failure did not fail itself: it
        encodes again, against the AE Studio file still shown."""
        doc = self.document
        for side in SIDES:
            same = doc.classic[side]
            if same.note == message:
                doc.clear_same_size(same.format, side)
        self.classic_encoder.refresh()

    def _on_cancelled(self) -> None:
        self._decoding.clear()  # a cancelled decode brings back the image open before
        self.document.cancel()
        self._note_unencoded_sides("cancelled")
        self.statusBar().showMessage("Cancelled.", 5000)
        self._job_ended()

    def _note_unencoded_sides(self, why: str) -> None:
        """A classic side that waited for an AE Studio file that will not come (``why``: a
        key of ``NOT_ENCODED``) says so, not that it still waits."""
        doc = self.document
        if doc.aei_data is not None or not doc.can_compare_classic:
            return
        for side in SIDES:
            same, choice = doc.classic[side], doc.sides[side]
            if choice.is_codec and same.result is None and not same.busy and not same.note:
                doc.fail_same_size(NOT_ENCODED[why], side)
