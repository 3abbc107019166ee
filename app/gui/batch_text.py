"""What the batch dialog says: one clean line per failed file and the summary at the end.

Pure functions (no widgets), so the wording is tested directly. The core's errors usually
start with the file's name ("bad.png: not a recognised image file") and OS errors end with
the path; the dialog shows the relative path once, at the start of the row, so both are
stripped from the message.
"""

from __future__ import annotations

from pathlib import PurePath

from app.core.batch import BatchReport, FileResult

__all__ = ["error_row", "report_summary"]

TASK_DONE = {"denoise": "denoised", "inpaint": "inpainted", "compress": "compressed",
             "decompress": "decompressed"}


def _strip_name(message: str, names: list[str]) -> str:
    """``message`` without a leading ``name:`` or a trailing ``: name`` of any of ``names``."""
    text = message.strip()
    changed = True
    while changed:
        changed = False
        for name in names:
            if not name:
                continue
            for quote in ("", "'", '"'):
                head, tail = f"{quote}{name}{quote}:", f": {quote}{name}{quote}"
                if text.startswith(head):
                    text, changed = text[len(head):].strip(), True
                if text.endswith(tail):
                    text, changed = text[: -len(tail)].strip(), True
    return text or message.strip()


def error_row(f: FileResult) -> str:
    """``"sub/bad.png — not a recognised image file"``: the file named once, one line."""
    names = [f.input or "", f.relative, PurePath(f.relative).name]
    message = (f.error or "failed").splitlines()[0] if (f.error or "").strip() else "failed"
    return f"{f.relative} — {_strip_name(message, names)}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def report_summary(report: BatchReport) -> str:
    """The line shown when a batch ends, e.g. ``"Done: 3 images denoised, 1 failed, 2
    skipped (output existed) in 4.1 s (0.73 images/s)."`` or, after Cancel, ``"Cancelled
    after 3 of 12 images: 3 denoised, 0 failed, 9 not done."`` ("cancelled" once; an image
    that was running when the batch stopped is not done either: its output was not written)."""
    ok = sum(f.status == "ok" for f in report.files)
    failed = sum(f.status == "failed" for f in report.files)
    not_done = sum(f.status == "skipped" and f.note == "cancelled" for f in report.files)
    existed = sum(f.status == "skipped" and f.note != "cancelled" for f in report.files)
    verb = TASK_DONE.get(report.task, "done")
    total = len(report.files)
    if report.cancelled:
        parts = [f"{ok} {verb}", f"{failed} failed"]
        if existed:
            parts.append(f"{existed} skipped (output existed)")
        parts.append(f"{not_done} not done")
        return (f"Cancelled after {ok + failed + existed} of {_plural(total, 'image')}: "
                + ", ".join(parts) + ".")
    if total == 0:
        return "Done: no images found in the input folder."
    parts = [f"{_plural(ok, 'image')} {verb}"]
    if failed:
        parts.append(f"{failed} failed (listed below)")
    if existed:
        parts.append(f"{existed} skipped (output existed)")
    rate = f" ({report.images_per_second:.2f} images/s)" if ok else ""
    return f"Done: {', '.join(parts)} in {report.seconds:.1f} s{rate}."
