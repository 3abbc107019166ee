"""AE Studio desktop GUI (PySide6).

The only package of the project that imports Qt. Modules:

* :mod:`app.gui.app` - ``run_gui``: the QApplication, icon and main window.
* :mod:`app.gui.main_window` - the window: menus, drag and drop, mode panels, status bar.
* :mod:`app.gui.panels` - the Compress / Denoise / Inpaint control panels.
* :mod:`app.gui.controller` - user intents -> background jobs, newest result wins.
* :mod:`app.gui.worker` - a QRunnable running ``fn(progress, cancel)`` off the UI thread.
* :mod:`app.gui.qimage` - numpy <-> QImage conversion.
* :mod:`app.gui.mask` - inpainting mask painting helpers (numpy).
* :mod:`app.gui.files` - openable suffixes, .aei detection, dropped files, error text.
* :mod:`app.gui.icon` - the application icon, drawn at run time (``python -m app.gui.icon OUT.png``).
* :mod:`app.gui.settings` - QSettings persistence: folder, mode, quality, geometry, recent.
* :mod:`app.gui.heatmap` - the |original - result| difference heatmap (numpy colormap).
* ``app/gui/resources/`` - Linux desktop entry, .aei MIME type and icon (docs/desktop.md).
* :mod:`app.gui.widgets.compare_view` - synced side-by-side image comparison.
* :mod:`app.gui.screenshot` - ``python -m app.gui.screenshot OUT.png [IMAGE]``.
"""
