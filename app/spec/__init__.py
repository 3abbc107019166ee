"""Contracts shared by the app and the training package (stdlib only, cheap to import)."""
