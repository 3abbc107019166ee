"""The main window's menus, actions and keyboard shortcuts, in one place.

:func:`build_menus` creates every action as an attribute of the window (``win.open_action``,
``win.undo_action``…) and fills the menu bar. Standard keys (Open, Save, Undo, Zoom in…) use
the platform's bindings, with a fallback where a platform has none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from .batch_open import open_batch
from .save_shown import (
    connect_save_buttons,
    save_aei_dialog,
    save_result_dialog,
    save_shown_dialog,
)
from .theme import THEMES

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["build_menus", "make_action", "show_shortcuts"]

StandardKey = QKeySequence.StandardKey


def make_action(win: MainWindow, text: str, slot: Callable,
                shortcut: StandardKey | str | None = None, tip: str = "",
                fallback: str = "") -> QAction:
    """An action; a standard key falls back to ``fallback`` where the platform has none."""
    action = QAction(text, win)
    if isinstance(shortcut, StandardKey):
        keys = QKeySequence.keyBindings(shortcut)
        action.setShortcuts(keys or ([QKeySequence(fallback)] if fallback else []))
    elif shortcut:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(lambda _checked=False: slot())
    return action


def build_menus(win: MainWindow) -> None:
    _file_menu(win)
    _edit_menu(win)
    _view_menu(win)
    help_menu = win.menuBar().addMenu("&Help")
    win.shortcuts_action = make_action(win, "&Keyboard shortcuts", lambda: show_shortcuts(win),
                                       StandardKey.HelpContents, "Every key and mouse gesture",
                                       "F1")
    help_menu.addAction(win.shortcuts_action)
    about = make_action(win, "&About AE Studio", win.about)
    about.setMenuRole(QAction.MenuRole.AboutRole)
    help_menu.addAction(about)
    win.rebuild_recent_menu()


def show_shortcuts(win: MainWindow):
    """Help ▸ Keyboard shortcuts (one non-modal dialog per window)."""
    from .shortcuts_dialog import ShortcutsDialog

    dialog = getattr(win, "shortcuts_dialog", None)
    if dialog is None:
        dialog = win.shortcuts_dialog = ShortcutsDialog(win)
    dialog.show()
    dialog.raise_()
    return dialog


def _file_menu(win: MainWindow) -> None:
    a = make_action
    win.open_action = a(win, "&Open…", win.open_dialog, StandardKey.Open,
                        "Open an image or an .aei file", "Ctrl+O")
    # Save… saves what the right side shows in the current mode (app/gui/save_shown.py)
    win.save_action = a(win, "&Save…", lambda: save_shown_dialog(win), StandardKey.Save,
                        "Save what the right side shows: the .aei file in Compress, the "
                        "result image in Denoise and Inpaint", "Ctrl+S")
    win.save_aei_action = a(win, "Save .&aei…", lambda: save_aei_dialog(win), None,
                            "Save the compressed file")
    win.save_image_action = a(win, "Save &decoded image…", lambda: save_result_dialog(win),
                              StandardKey.SaveAs, "Save the result image (PNG, JPEG, WebP)",
                              "Ctrl+Shift+S")
    connect_save_buttons(win)  # the Denoise and Inpaint panels' Save… do what Save… does
    win.next_action = a(win, "&Next image", lambda: win.step_file(1), "PgDown",
                        "Next of the dropped files")
    win.previous_action = a(win, "&Previous image", lambda: win.step_file(-1), "PgUp",
                            "Previous of the dropped files")
    win.batch_action = a(win, "&Batch…", lambda: open_batch(win), "Ctrl+B",
                         "Run a task over a whole folder")
    win.load_mask_action = a(win, "Load &mask…", win.load_mask_dialog, None,
                             "Load an inpainting mask (white = hole)")
    win.quit_action = a(win, "&Quit", win.close, StandardKey.Quit, "Quit AE Studio", "Ctrl+Q")
    win.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
    menu = win.menuBar().addMenu("&File")
    menu.addAction(win.open_action)
    win.recent_menu = menu.addMenu("Open &Recent")
    win.recent_menu.aboutToShow.connect(win.rebuild_recent_menu)
    for action in (win.save_action, win.save_aei_action, win.save_image_action):
        menu.addAction(action)
    # Compress mode: either side of the comparison, as the file it shows (Squoosh-style)
    from .compare_sides import save_side_dialog

    win.save_left_action = a(win, "Save &left side…", lambda: save_side_dialog(win, "left"),
                             None, "Save the file the left side shows")
    win.save_right_action = a(win, "Save &right side…",
                              lambda: save_side_dialog(win, "right"), None,
                              "Save the file the right side shows")
    menu.addAction(win.save_left_action)
    menu.addAction(win.save_right_action)
    menu.addSeparator()
    menu.addAction(win.previous_action)
    menu.addAction(win.next_action)
    menu.addSeparator()
    menu.addAction(win.batch_action)
    menu.addAction(win.load_mask_action)
    menu.addSeparator()
    menu.addAction(win.quit_action)


def _edit_menu(win: MainWindow) -> None:
    a = make_action
    editor, panel = win.mask_editor, win.inpaint_panel
    win.paste_action = a(win, "&Paste", win.paste_image, StandardKey.Paste,
                         "Open the image on the clipboard", "Ctrl+V")
    win.undo_action = a(win, "&Undo mask stroke", editor.undo, StandardKey.Undo,
                        "Undo the last brush stroke or clear", "Ctrl+Z")
    win.redo_action = a(win, "&Redo mask stroke", editor.redo, StandardKey.Redo,
                        "Redo", "Ctrl+Shift+Z")
    if QKeySequence("Ctrl+Shift+Z") not in win.redo_action.shortcuts():
        win.redo_action.setShortcuts([*win.redo_action.shortcuts(), QKeySequence("Ctrl+Shift+Z")])
    win.brush_smaller_action = a(win, "Brush s&maller", lambda: panel.step_brush(-1), "[")
    win.brush_larger_action = a(win, "Brush &larger", lambda: panel.step_brush(1), "]")
    win.eraser_action = a(win, "&Eraser", lambda: None, "E", "Erase the mask instead of painting")
    win.eraser_action.setCheckable(True)
    win.eraser_action.toggled.connect(panel.eraser_check.setChecked)
    panel.eraser_check.toggled.connect(win.eraser_action.setChecked)
    menu = win.menuBar().addMenu("&Edit")
    menu.addAction(win.paste_action)
    menu.addSeparator()
    for action in (win.undo_action, win.redo_action, win.brush_smaller_action,
                   win.brush_larger_action, win.eraser_action):
        menu.addAction(action)


def _view_menu(win: MainWindow) -> None:
    a, view = make_action, win.compare_view
    menu = win.menuBar().addMenu("&View")
    menu.addAction(a(win, "&Fit", view.fit, "Ctrl+0"))
    menu.addAction(a(win, "&100%", view.actual_size, "Ctrl+1"))
    menu.addAction(a(win, "Zoom &in", lambda: view.zoom_by(1.25), StandardKey.ZoomIn,
                     fallback="Ctrl++"))
    menu.addAction(a(win, "Zoom &out", lambda: view.zoom_by(0.8), StandardKey.ZoomOut,
                     fallback="Ctrl+-"))
    menu.addSeparator()
    win.split_action = a(win, "&Split view", lambda: win.set_layout(
        "split" if win.split_action.isChecked() else "side-by-side"), "S",
        "One image with a divider (on) or two panes side by side (off)")
    win.split_action.setCheckable(True)
    menu.addAction(win.split_action)
    for key, (text, where) in enumerate((("Divider &left", 0.0), ("Divider &middle", 0.5),
                                         ("Divider &right", 1.0)), start=1):
        menu.addAction(a(win, text, lambda w=where: view.set_divider(w), str(key)))
    menu.addSeparator()
    win.heatmap_action = a(win, "Difference &heatmap", win.show_mode_state, "D",
                           "Show |original − result| (amplified) in the right pane")
    win.heatmap_action.setCheckable(True)
    menu.addAction(win.heatmap_action)
    theme_menu = menu.addMenu("&Theme")
    group = QActionGroup(win)
    win.theme_actions = {}
    for theme in THEMES:
        action = a(win, theme.capitalize(), lambda t=theme: win.set_theme(t))
        action.setCheckable(True)
        group.addAction(action)
        theme_menu.addAction(action)
        win.theme_actions[theme] = action
