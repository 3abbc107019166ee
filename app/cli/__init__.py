"""Command-line front end: argument parsing and printing; the work happens in app.core."""
