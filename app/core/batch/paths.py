"""Where a batch's outputs really land: checked for every output before any work starts, and
again for each output folder just before its file is written.

Comparing the two top-level folders is not enough: an output folder that is an ancestor of
the input folder, a subfolder of the output folder that is a symlink into the input folder, a
bind mount of the input folder, or a masks folder equal to the output folder all put outputs
inside what must only be read. So :class:`OutputGuard` knows the *protected* folders by
identity (``st_dev``, ``st_ino``): every folder of the input tree and of the masks tree, and
the real folder of each input and mask file (symlinked files included). An output folder is
refused when its real path (symlinks and ``..`` resolved) or any of its ancestors is one of
them; identities rather than path strings catch bind mounts. An output is also refused when
it resolves onto an input, a mask, the report, or another output.

The same check runs for each output folder as it is created (one component at a time, so a
component swapped for a symlink is caught before anything is made inside it) and, through
:func:`app.core.io.atomic_write.destination_check`, just before the temporary file is created
and just before it is moved into place.

:func:`preflight` checks the rest before the first model run: the report can be written, the
output names fit the file system, and (best effort) there is room for the outputs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable

from ..io.atomic_write import name_max, probe_writable
from .plan import AEI_SUFFIX, BatchError, BatchItem, BatchOptions

__all__ = ["OutputGuard", "preflight", "space_needed"]

_DirId = tuple[int, int]


def _real(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(os.path.abspath(os.path.expanduser(str(path))))


def _dir_id(path: str | os.PathLike[str]) -> _DirId | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _existing(path: str) -> str:
    """The deepest existing folder of a real path (the path itself when it exists)."""
    p = path
    while not os.path.isdir(p):
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    return p


class OutputGuard:
    """The protected folders and files of one batch, and the checks of its outputs."""

    def __init__(self, opts: BatchOptions, items: Iterable[BatchItem],
                 report: str | os.PathLike[str] | None = None):
        self.opts = opts
        self._dirs: dict[_DirId, str] = {}        # protected folder -> what it is, for messages
        self._entries: dict[tuple[str, str], str] = {}  # (real folder, name) -> what it is
        items = list(items)
        self.report = str(report) if report else None
        self._protect_tree(opts.input_dir, f"the input folder {opts.input_dir}")
        if opts.masks:
            self._protect_tree(opts.masks, f"the masks folder {opts.masks}")
        for item in items:
            self._protect_file(item.input, f"the input {item.input}",
                               f"the folder of the input {item.input}")
            if item.mask:
                self._protect_file(item.mask, f"the mask {item.mask}",
                                   f"the folder of the mask {item.mask}")
        if report:
            self._protect_file(report, f"the report {report}")

    # ------------------------------------------------------------------ what is protected

    def _protect_tree(self, root: str, what: str) -> None:
        real = _real(root)
        top = _dir_id(real)
        if top is None:
            return
        self._dirs.setdefault(top, what)
        for dirpath, dirnames, _ in os.walk(real, onerror=lambda e: None):
            for d in dirnames:
                ident = _dir_id(os.path.join(dirpath, d))
                if ident is not None and not os.path.islink(os.path.join(dirpath, d)):
                    self._dirs.setdefault(ident, what)

    def _protect_file(self, path: str | os.PathLike[str], what: str,
                      folder: str | None = None) -> None:
        """An input, mask or report: its own entry and its real one (a symlink's target), and
        with ``folder`` the real folder that holds it."""
        absolute = os.path.abspath(os.path.expanduser(str(path)))
        for p in {absolute, _real(absolute)}:
            parent, name = os.path.split(p)
            self._entries.setdefault((_real(parent), name), what)
            ident = _dir_id(parent)
            if folder is not None and ident is not None:
                self._dirs.setdefault(ident, folder)

    # ------------------------------------------------------------------ checks

    def folder_problem(self, directory: str | os.PathLike[str]) -> str | None:
        """What protected folder ``directory`` really lies in (None: it is free to write)."""
        p = _existing(_real(directory))
        while True:
            ident = _dir_id(p)
            if ident is not None and ident in self._dirs:
                return self._dirs[ident]
            parent = os.path.dirname(p)
            if parent == p:
                return None
            p = parent

    def target_problem(self, output: str | os.PathLike[str]) -> str | None:
        parent, name = os.path.split(os.path.abspath(str(output)))
        inside = self.folder_problem(parent)
        if inside is not None:
            return f"inside {inside}"
        onto = self._entries.get((_real(parent), name))
        if onto is None:
            onto = self._entries.get(os.path.split(_real(output)))
        return f"onto {onto}" if onto is not None else None

    def check_target(self, output: str | os.PathLike[str]) -> None:
        """Raise :class:`BatchError` when ``output`` would land inside or onto something
        protected (used again just before each write)."""
        problem = self.target_problem(output)
        if problem is not None:
            raise BatchError(f"refusing to write {output}: it resolves to "
                             f"{_real(output)}, {problem} (nothing is ever written into the "
                             "input or masks folder)")

    def check_plan(self, items: Iterable[BatchItem]) -> None:
        """Refuse the batch when any planned output lands inside the input or masks tree,
        onto an input, mask or the report, or onto another planned output."""
        if self.report is not None:
            parent, name = os.path.split(os.path.abspath(self.report))
            inside = self.folder_problem(parent)
            onto = self._entries.get((_real(parent), name))
            onto = onto if onto != f"the report {self.report}" else None
            if inside is not None or onto is not None:
                raise BatchError(f"the report {self.report} resolves to {_real(self.report)}, "
                                 f"{'inside ' + inside if inside else 'onto ' + str(onto)}: "
                                 "choose another place for it")
        seen: dict[tuple[str, str], str] = {}
        folders: dict[str, str | None] = {}
        for item in items:
            if item.error:
                continue
            parent, name = os.path.split(os.path.abspath(item.output))
            if parent not in folders:
                folders[parent] = self.folder_problem(parent)
            problem = folders[parent]
            problem = f"inside {problem}" if problem else self.target_problem(item.output)
            if problem is not None:
                raise BatchError(f"the output {item.output} of {item.input} resolves to "
                                 f"{_real(item.output)}, {problem}: choose an output folder "
                                 "outside the input and masks folders")
            key = (_real(parent), name)
            if key in seen and seen[key] != item.output:
                raise BatchError(f"the outputs {seen[key]} and {item.output} resolve to the same "
                                 f"file {_real(item.output)}: choose another output folder")
            seen[key] = item.output
            if len(os.fsencode(name)) > name_max(_existing(_real(parent))):
                item.error = f"the output name {name} is longer than the file system allows"

    def make_dirs(self, directory: str | os.PathLike[str]) -> None:
        """Create ``directory`` and its missing parents one at a time, checking each one's
        real place before anything is created inside it."""
        missing: list[str] = []
        p = os.path.abspath(str(directory))
        while not os.path.isdir(p):
            missing.append(p)
            parent = os.path.dirname(p)
            if parent == p:
                break
            p = parent
        self._check_folder(p)
        for d in reversed(missing):
            try:
                os.mkdir(d)
            except FileExistsError:
                pass
            self._check_folder(d)

    def _check_folder(self, directory: str) -> None:
        inside = self.folder_problem(directory)
        if inside is not None:
            raise BatchError(f"refusing to write into {directory}: it resolves to "
                             f"{_real(directory)}, inside {inside} (nothing is ever written "
                             "into the input or masks folder)")


# ============================================================================ preflight


def space_needed(task: str, items: Iterable[BatchItem]) -> int:
    """A rough lower estimate of the bytes a batch's outputs take: compressed files are small,
    a decoded PNG is many times its ``.aei``, a denoised or inpainted PNG about half its input
    or more. Only a batch that certainly cannot fit is refused."""
    total = 0
    for item in items:
        try:
            size = os.path.getsize(item.input)
        except OSError:
            continue
        if task == "compress":
            total += 4096
        elif task == "decompress" or item.input.lower().endswith(AEI_SUFFIX):
            total += 8 * size
        else:
            total += size // 2
    return total


def preflight(opts: BatchOptions, todo: list[BatchItem],
              report: str | os.PathLike[str] | None) -> None:
    """Before the first model run: the report can be written, and there is room (best effort).
    Raises :class:`BatchError` (the batch could not start)."""
    if report:
        try:
            probe_writable(report)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise BatchError(f"cannot write the report {report}: {reason}") from None
    if not todo:
        return
    where = _existing(_real(opts.output_dir))
    try:
        free = shutil.disk_usage(where).free
    except OSError:
        return
    need = space_needed(opts.task, todo)
    if need > free:
        raise BatchError(f"not enough free space in {opts.output_dir}: the outputs need about "
                         f"{_mib(need)}, {_mib(free)} is free")


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"

