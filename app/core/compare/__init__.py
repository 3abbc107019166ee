"""Comparison: quality metrics, classical codecs at a matched size, the sides of the compare view."""
