"""Inpaint again on the result (as in IOPaint): "Continue on result" makes the inpainted
image the image, with an empty mask, so a second mask can refine what the first fill left;
"Step back" returns to the image before it. The earlier images are kept here, newest last;
opening another image forgets them."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .main_window import MainWindow

MAX_STEPS = 20  # earlier images kept (a 12-megapixel step costs 36 MB)


class InpaintSteps:
    def __init__(self, win: MainWindow) -> None:
        self.win = win
        self.earlier: list[np.ndarray] = []
        self._replacing = False  # our own image change: the steps stay
        win.inpaint_panel.continueRequested.connect(self.continue_on_result)
        win.inpaint_panel.stepBackRequested.connect(self.step_back)
        win.document.image_changed.connect(self._on_image)
        win.document.mode_changed.connect(lambda _mode: self.update())
        self.update()

    def continue_on_result(self) -> bool:
        """The inpainted result becomes the image (False: no result, or a job runs)."""
        doc = self.win.document
        result = doc.result("inpaint")
        if result is None or doc.busy:
            return False
        self.earlier = (self.earlier + [doc.image])[-MAX_STEPS:]
        self._replace(result, "Continuing on the inpainted result: paint what to refine.")
        return True

    def step_back(self) -> bool:
        """Back to the image before the last continue (False: none, or a job runs)."""
        if not self.earlier or self.win.document.busy:
            return False
        self._replace(self.earlier.pop(), "Stepped back to the earlier image.")
        return True

    def _replace(self, pixels: np.ndarray, message: str) -> None:
        win = self.win
        win.controller.reset()  # a result still in flight belongs to the image replaced
        win.heatmaps.clear()
        win.mask_editor.reset(pixels.shape)
        self._replacing = True
        try:
            # the source counts the steps: the captions and Save name what is shown
            win.document.open(pixels, replace(win.document.source, step=len(self.earlier)))
        finally:
            self._replacing = False
        self.update()
        win.statusBar().showMessage(message, 5000)

    def _on_image(self) -> None:
        if not self._replacing:
            self.earlier.clear()
        self.update()

    def update(self) -> None:
        doc = self.win.document
        idle = not doc.busy
        self.win.inpaint_panel.set_steps_state(
            idle and doc.result("inpaint") is not None, idle and bool(self.earlier))
