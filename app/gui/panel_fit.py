"""Keep the mode panels tall enough for their wrapped result text.

A QTabWidget sizes itself from its pages' plain size hints, which ignore that a word-wrapped
label needs more lines when the window is narrow; at the minimum window size the result
line was cut off. :class:`PanelFit` sets the tab widget's minimum height from the current
page's height-for-width whenever the tabs are resized, the page changes or a result line
changes (the document view calls :meth:`PanelFit.fit`).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QTabWidget

__all__ = ["MIN_WINDOW", "PanelFit"]

MIN_WINDOW = (760, 560)  # below this the comparison and the panels no longer fit side by side


class PanelFit(QObject):
    def __init__(self, tabs: QTabWidget) -> None:
        super().__init__(tabs)
        self.tabs = tabs
        self._fitting = False
        self._later = QTimer(self)  # a resize refits once the layout has settled
        self._later.setSingleShot(True)
        self._later.setInterval(0)
        self._later.timeout.connect(self.fit)
        tabs.installEventFilter(self)
        tabs.currentChanged.connect(lambda _i: self.fit())

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.tabs and event.type() == QEvent.Type.Resize and not self._fitting:
            self._later.start()
        return False

    def fit(self) -> None:
        if self._fitting:
            return
        self._fitting = True
        try:
            self._fit()
        finally:
            self._fitting = False

    def _fit(self) -> None:
        page = self.tabs.currentWidget()
        if page is None or page.layout() is None:
            return
        layout = page.layout()
        width = page.width() if page.width() > 0 else self.tabs.width()
        need = (layout.totalHeightForWidth(width) if layout.hasHeightForWidth()
                else layout.totalMinimumSize().height())
        chrome = max(0, self.tabs.height() - page.height()) if page.height() > 0 else \
            self.tabs.tabBar().sizeHint().height() + 8
        height = need + chrome
        if height != self.tabs.minimumHeight():
            self.tabs.setMinimumHeight(height)
