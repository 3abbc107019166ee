"""The batch dialog's options per task: one page of controls for each task, shown for the
task chosen, with exactly the options ``aestudio batch`` accepts for it (see
:class:`app.core.batch.BatchOptions`):

* denoise: automatic or chosen noise level σ, a strength factor, passes, model;
* inpaint: the masks folder, passes, model;
* compress: quality, model;
* decompress: nothing to choose (each .aei file names its model).

The output format is fixed by the batch (``.aei`` for compress, PNG otherwise), so each page
says what it writes instead of offering a choice the batch would ignore.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QWidget,
)

from app.core.jobs import MODEL_TASK
from app.core.restore.self_ensemble import DEFAULT_PASSES, PASSES

__all__ = ["OUTPUT_NOTES", "TaskOptions", "installed_models"]

OUTPUT_NOTES = {
    "denoise": "Writes <name>.png (lossless), mirroring the input folder.",
    "inpaint": "Writes <name>.png (lossless); each image needs a mask of the same name.",
    "compress": "Writes <name>.aei files.",
    "decompress": "Writes <name>.png; each .aei file names the model that decodes it.",
}
MAX_SIGMA = 75  # as aestudio batch --sigma


def installed_models(models_dir: str | None, task: str) -> tuple[list[str], str | None]:
    """(installed model ids for the batch task, the default id): empty when none can be
    listed (the batch then reports the missing model itself)."""
    model_task = MODEL_TASK.get(task)
    if model_task is None:
        return [], None
    try:
        from app.core.runtime.registry import Registry

        registry = Registry(models_dir)
        ids = [m.id for m in registry.list(model_task)]
        default = registry.default(model_task).id if ids else None
    except Exception:  # noqa: BLE001 - a broken models folder is reported by the batch
        return [], None
    return ids, default


def _passes_combo(task: str, parent: QWidget) -> QComboBox:
    combo = QComboBox(parent)
    for n in PASSES:
        combo.addItem("1 pass (fastest)" if n == 1 else f"{n} passes", n)
    combo.setCurrentIndex(PASSES.index(DEFAULT_PASSES[task]))
    combo.setToolTip("Network passes per tile on mirrored and turned copies, averaged: more "
                     "is slightly better and proportionally slower")
    return combo


class TaskOptions(QStackedWidget):
    """One page of options per task; :meth:`values` gives the BatchOptions fields."""

    def __init__(self, folder_row: Callable[[QLineEdit, str], QWidget],
                 models_dir: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models_dir = models_dir
        self.model_combos: dict[str, QComboBox] = {}
        self.output_notes: dict[str, QLabel] = {}
        self.pages: dict[str, QWidget] = {}
        # denoise
        page, form = self._page("denoise")
        self.auto_sigma_check = QCheckBox("Estimate the noise level of each image", page)
        self.auto_sigma_check.setChecked(True)
        self.sigma_spin = QDoubleSpinBox(page)
        self.sigma_spin.setRange(0, MAX_SIGMA)
        self.sigma_spin.setDecimals(1)
        self.sigma_spin.setValue(15)
        self.sigma_spin.setToolTip("Noise level σ on the 0–255 scale")
        self.strength_spin = QDoubleSpinBox(page)
        self.strength_spin.setRange(0, 4)
        self.strength_spin.setSingleStep(0.1)
        self.strength_spin.setDecimals(2)
        self.strength_spin.setValue(1.0)
        self.strength_spin.setToolTip("Multiplies the noise level: below 1 keeps more "
                                      "texture, above 1 smooths more")
        self.denoise_passes = _passes_combo("denoise", page)
        form.addRow("Strength", self.auto_sigma_check)
        form.addRow("Noise level σ", self.sigma_spin)
        form.addRow("Strength ×", self.strength_spin)
        form.addRow("Passes", self.denoise_passes)
        self._finish_page("denoise", page, form)
        self.auto_sigma_check.toggled.connect(
            lambda on: self.sigma_spin.setEnabled(not on))
        self.sigma_spin.setEnabled(False)
        # inpaint
        page, form = self._page("inpaint")
        self.masks_edit = QLineEdit(page)
        self.masks_edit.setPlaceholderText("Same names as the images; white = fill")
        self.masks_row = folder_row(self.masks_edit, "Masks folder")
        self.inpaint_passes = _passes_combo("inpaint", page)
        form.addRow("Masks folder", self.masks_row)
        form.addRow("Passes", self.inpaint_passes)
        self._finish_page("inpaint", page, form)
        # compress
        page, form = self._page("compress")
        self.quality_spin = QDoubleSpinBox(page)
        self.quality_spin.setDecimals(0)  # "75", as the main window's slider shows it
        self.quality_spin.setRange(1, 100)
        self.quality_spin.setValue(75)
        form.addRow("Quality", self.quality_spin)
        self._finish_page("compress", page, form)
        # decompress
        page, form = self._page("decompress")
        self._finish_page("decompress", page, form)

    def _page(self, task: str) -> tuple[QWidget, QFormLayout]:
        page = QWidget(self)
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        return page, form

    def _finish_page(self, task: str, page: QWidget, form: QFormLayout) -> None:
        if task in MODEL_TASK:
            combo = QComboBox(page)
            ids, default = installed_models(self.models_dir, task)
            combo.addItem(f"Default ({default})" if default else "Default", None)
            for model_id in ids:
                combo.addItem(model_id, model_id)
            combo.setToolTip("The model that runs on every image")
            self.model_combos[task] = combo
            form.addRow("Model", combo)
        note = QLabel(OUTPUT_NOTES[task], page)
        note.setWordWrap(True)
        self.output_notes[task] = note
        form.addRow("Output", note)
        self.pages[task] = page
        self.addWidget(page)

    def show_task(self, task: str) -> None:
        self.setCurrentWidget(self.pages[task])

    def model(self, task: str) -> str | None:
        combo = self.model_combos.get(task)
        return None if combo is None else combo.currentData()

    def set_model(self, task: str, model_id: str | None) -> bool:
        combo = self.model_combos.get(task)
        index = -1 if combo is None else combo.findData(model_id)
        if index >= 0:
            combo.setCurrentIndex(index)
        return index >= 0

    def values(self, task: str) -> dict[str, Any]:
        """The BatchOptions fields this task uses (the others keep their defaults)."""
        v: dict[str, Any] = {"model": self.model(task)}
        if task == "denoise":
            v["sigma"] = None if self.auto_sigma_check.isChecked() else self.sigma_spin.value()
            v["strength"] = self.strength_spin.value()
            v["passes"] = int(self.denoise_passes.currentData())
        elif task == "inpaint":
            v["masks"] = self.masks_edit.text().strip() or None
            v["passes"] = int(self.inpaint_passes.currentData())
        elif task == "compress":
            v["quality"] = self.quality_spin.value()
        return v
