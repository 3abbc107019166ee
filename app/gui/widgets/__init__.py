"""Reusable widgets of the AE Studio GUI."""

from .compare_view import CompareView
from .image_pane import ImagePane

__all__ = ["CompareView", "ImagePane"]
