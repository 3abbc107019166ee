"""AE Studio core: everything the GUI, CLI and batch share (no Qt, no torch)."""
