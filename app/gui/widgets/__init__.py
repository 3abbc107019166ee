"""Reusable widgets of the AE Studio GUI."""

from .compare_view import CompareView, ImagePane

__all__ = ["CompareView", "ImagePane"]
