"""The batch dialog's options per task: rows of the dialog's form for each task, shown for
the task chosen (one form, so the label column stays put and a task with few options leaves
no gap), with exactly the options ``aestudio batch`` accepts for it (see
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

import re

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from app.core.jobs import MODEL_TASK
from app.core.restore.self_ensemble import DEFAULT_PASSES, PASSES

__all__ = ["OUTPUT_NOTES", "TaskOptions", "installed_models", "model_hint"]

OUTPUT_NOTES = {
    "denoise": "Writes <name>.png (lossless), mirroring the input folder.",
    "inpaint": "Writes <name>.png (lossless); each image needs a mask of the same name.",
    "compress": "Writes <name>.aei files.",
    "decompress": "Writes <name>.png; each .aei file names the model that decodes it.",
}
MAX_SIGMA = 75  # as aestudio batch --sigma


def model_hint(model_id: str, title: str, default_id: str | None) -> str:
    """A few words telling a model from the default: "older snapshot", "int8 copy, CPU
    only", or the head of its title where it is another kind of model."""
    if model_id.endswith("-int8"):
        return "int8 copy, CPU only"
    family, default_family = (re.sub(r"-v\d+$", "", i or "") for i in (model_id, default_id))
    if default_id and family == default_family:
        from app.core.runtime.registry import version_key

        newer = version_key(model_id) > version_key(default_id)
        return "newer, not the default" if newer else "older snapshot"
    return title.split(" (")[0].strip() or "another model"


def installed_models(models_dir: str | None, task: str
                     ) -> tuple[list[tuple[str, str, str]], str | None]:
    """(installed models for the batch task as (id, hint, title), the default id): empty
    when none can be listed (the batch then reports the missing model itself)."""
    model_task = MODEL_TASK.get(task)
    if model_task is None:
        return [], None
    try:
        from app.core.runtime.registry import Registry

        registry = Registry(models_dir)
        models = registry.list(model_task)
        default = registry.default(model_task).id if models else None
    except Exception:  # noqa: BLE001 - a broken models folder is reported by the batch
        return [], None
    return [(m.id, model_hint(m.id, m.manifest.title, default), m.manifest.title)
            for m in models], default


def _passes_combo(task: str, parent: QWidget) -> QComboBox:
    combo = QComboBox(parent)
    for n in PASSES:
        combo.addItem("1 pass (fastest)" if n == 1 else f"{n} passes", n)
    combo.setCurrentIndex(PASSES.index(DEFAULT_PASSES[task]))
    combo.setToolTip("Network passes per tile on mirrored and turned copies, averaged: more "
                     "is slightly better and proportionally slower")
    return combo


class TaskOptions(QObject):
    """The option rows of every task in the dialog's ``form``; :meth:`show_task` shows one
    task's rows, :meth:`values` gives the BatchOptions fields."""

    def __init__(self, form: QFormLayout, folder_row: Callable[[QLineEdit, str], QWidget],
                 models_dir: str | None, parent: QWidget) -> None:
        super().__init__(parent)
        self.form = form
        self.models_dir = models_dir
        self.model_combos: dict[str, QComboBox] = {}
        self.output_notes: dict[str, QLabel] = {}
        self.rows: dict[str, list[QWidget]] = {task: [] for task in OUTPUT_NOTES}
        self.task = ""
        # denoise
        self.auto_sigma_check = QCheckBox("Estimate the noise level of each image", parent)
        self.auto_sigma_check.setChecked(True)
        self.sigma_spin = QDoubleSpinBox(parent)
        self.sigma_spin.setRange(0, MAX_SIGMA)
        self.sigma_spin.setDecimals(1)
        self.sigma_spin.setValue(15)
        self.sigma_spin.setToolTip("Noise level σ on the 0–255 scale")
        self.strength_spin = QDoubleSpinBox(parent)
        self.strength_spin.setRange(0, 4)
        self.strength_spin.setSingleStep(0.1)
        self.strength_spin.setDecimals(2)
        self.strength_spin.setValue(1.0)
        self.strength_spin.setToolTip("Multiplies the noise level: below 1 keeps more "
                                      "texture, above 1 smooths more")
        self.denoise_passes = _passes_combo("denoise", parent)
        self._add("denoise", "Strength", self.auto_sigma_check)
        self._add("denoise", "Noise level σ", self.sigma_spin)
        self._add("denoise", "Strength ×", self.strength_spin)
        self._add("denoise", "Passes", self.denoise_passes)
        self._add_common("denoise")
        self.auto_sigma_check.toggled.connect(
            lambda on: self.sigma_spin.setEnabled(not on))
        self.sigma_spin.setEnabled(False)
        # inpaint
        self.masks_edit = QLineEdit(parent)
        self.masks_edit.setPlaceholderText("Same names as the images; white = fill")
        self.masks_row = folder_row(self.masks_edit, "Masks folder")
        self.inpaint_passes = _passes_combo("inpaint", parent)
        self._add("inpaint", "Masks folder", self.masks_row)
        self._add("inpaint", "Passes", self.inpaint_passes)
        self._add_common("inpaint")
        # compress
        self.quality_spin = QDoubleSpinBox(parent)
        self.quality_spin.setDecimals(0)  # "75", as the main window's slider shows it
        self.quality_spin.setRange(1, 100)
        self.quality_spin.setValue(75)
        self._add("compress", "Quality", self.quality_spin)
        self._add_common("compress")
        # decompress
        self._add_common("decompress")

    def _add(self, task: str, label: str, field: QWidget) -> None:
        self.form.addRow(label, field)
        self.rows[task].append(field)

    def _add_common(self, task: str) -> None:
        """The model (tasks that run one) and what the task writes."""
        parent = self.parent()
        if task in MODEL_TASK:
            combo = QComboBox(parent)
            models, default = installed_models(self.models_dir, task)
            combo.addItem(f"Default ({default})" if default else "Default", None)
            for model_id, hint, title in models:
                if model_id != default:  # already there, as Default
                    combo.addItem(f"{model_id} — {hint}", model_id)
                    combo.setItemData(combo.count() - 1, title, Qt.ItemDataRole.ToolTipRole)
            combo.setToolTip("The model that runs on every image")
            self.model_combos[task] = combo
            self._add(task, "Model", combo)
        note = QLabel(OUTPUT_NOTES[task], parent)
        note.setWordWrap(True)
        self.output_notes[task] = note
        self._add(task, "Output", note)

    def show_task(self, task: str) -> None:
        self.task = task
        for name, fields in self.rows.items():
            for field in fields:
                self.form.setRowVisible(field, name == task)

    def setEnabled(self, enabled: bool) -> None:  # noqa: N802 - as QWidget's
        for fields in self.rows.values():
            for field in fields:
                field.setEnabled(enabled)
        if enabled:
            self.sigma_spin.setEnabled(not self.auto_sigma_check.isChecked())

    def model(self, task: str) -> str | None:
        combo = self.model_combos.get(task)
        return None if combo is None else combo.currentData()

    def set_model(self, task: str, model_id: str | None) -> bool:
        """Select ``model_id`` (None, or the default's own id: the Default entry)."""
        combo = self.model_combos.get(task)
        index = -1 if combo is None else combo.findData(model_id)
        if index < 0 and combo is not None and model_id is not None \
                and combo.itemText(0) == f"Default ({model_id})":
            index = 0
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
