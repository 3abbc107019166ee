"""The import contracts in pyproject.toml hold (core free of Qt and torch, training uses only
app.spec), and importing the core does not pull in Qt or torch at run time either."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold():
    exe = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(exe), "--no-cache"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: 4 kept, 0 broken" in proc.stdout


def test_core_and_cli_import_without_qt_or_torch():
    code = ("import sys, app.core.engine, app.core.jobs, app.cli.main, app.core.demo;"
            "bad = [m for m in ('PySide6', 'torch', 'app.gui') if m in sys.modules];"
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
