"""Files: image I/O, bounded reads and atomic writes."""
