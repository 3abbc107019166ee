"""The main window's image jobs: start compress, denoise and inpaint, take in their results.

A mixin of :class:`app.gui.main_window.MainWindow`, kept apart so each module stays small. The
work runs in the window's ``controller``; results and failures go to its ``document``, from
which :mod:`app.gui.document_view` draws every readout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from app.core.document import Source

__all__ = ["JobsMixin"]


class JobsMixin:
    """Job requests from the panels and the controller's answers, for the main window."""

    def compress_now(self) -> None:
        if self._require_image():
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

    def denoise_now(self) -> None:
        if self._require_image():
            self.document.start("denoise", "Denoising…")
            self.controller.denoise(self.current_pixels, self.denoise_panel.sigma,
                                    self.denoise_panel.passes)

    def inpaint_now(self) -> None:
        if not self._require_image():
            return
        if not self.mask_editor.has_holes:
            self.show_error("Paint the areas to fill on the left image, or load a mask, first.")
            return
        self.document.start("inpaint", "Inpainting…")
        self.controller.inpaint(self.current_pixels, self.mask_editor.mask.copy(),
                                self.inpaint_panel.passes)

    def _require_image(self) -> bool:
        if self.current_pixels is None:
            self.show_error("Open an image first (File ▸ Open… or drop a file here).")
            return False
        return True

    def _on_quality_changed(self, quality: int) -> None:
        if self.current_pixels is not None:
            self.document.start("compress", f"Compressing at quality {quality}…")
            self.controller.request_compress(self.current_pixels, quality)

    def _on_compressed(self, result: dict[str, Any]) -> None:
        info = dict(result)  # the measures (with references to the pixels and file)
        info["original_bytes"] = self.document.source.file_bytes
        if result.get("target_bytes"):
            self.compress_panel.set_quality_silently(result["quality"])
        self.document.finish("compress", result["reconstruction"], info, result["data"])
        self._request_same_size()
        self._update_model_label()

    def _request_same_size(self) -> None:
        """Encode the classic-codec sides that need it (app/gui/classic_encoder.py)."""
        self.classic_encoder.refresh()

    def _on_same_sized(self, result: dict[str, Any]) -> None:
        self.document.finish_same_size(result)

    def _on_strength_changed(self) -> None:
        """A new strength re-runs the denoiser (debounced) once there is a result to update."""
        if self.result_pixels("denoise") is not None:
            self.document.start("denoise", "Denoising…")
            self.controller.request_denoise(self.current_pixels, self.denoise_panel.sigma,
                                            self.denoise_panel.passes)

    def _on_decoded(self, result: dict[str, Any]) -> None:
        pixels, name = result["pixels"], result["name"]
        path = self._decoding.pop(name, None)
        self.set_image_from_aei(pixels, name, result["data"], result["seconds"],
                                result.get("model_id", ""), path)
        self.set_mode("compress")  # after the result is stored: no automatic re-compress
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
        self.document.open_decoded(pixels, Source("aei", name, path), data, decode_seconds,
                                   model_id)

    def _on_denoised(self, result: dict[str, Any]) -> None:
        self.document.finish("denoise", result["pixels"], result)
        self._update_model_label()

    def _on_inpainted(self, result: dict[str, Any]) -> None:
        self.document.finish("inpaint", result["pixels"], result)
        self._update_model_label()

    def _on_failed(self, message: str) -> None:
        if self._decoding:  # an .aei being decoded failed: say which file
            name = list(self._decoding)[-1]
            self._decoding.clear()
            if name not in message:
                message = f"Cannot open {name}: {message}"
        self.document.fail(message)
        self.show_error(message)

    def _on_cancelled(self) -> None:
        self.document.cancel()
        self.statusBar().showMessage("Cancelled.", 5000)
