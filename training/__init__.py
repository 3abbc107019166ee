"""Training and export of AE Studio's models (PyTorch, CPU)."""
