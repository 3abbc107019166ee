"""Property: whatever the folder layout (nested, ancestor and sibling folders, symlinked folders
and files, masks folder anywhere), a batch never writes inside its input tree or its masks
tree, and never replaces an input or a mask.

Hypothesis builds small trees of real folders with symlinks, and picks the input, output and
masks folders among them. Each example is checked twice: at the plan level against an oracle
that resolves paths independently (``os.path.realpath``), and by a real run of the batch (with
``--force`` and ``--recursive``) through an engine that returns its input, comparing snapshots
of the input and masks trees before and after."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.batch.local import BatchRunner
from app.core.batch.paths import OutputGuard
from app.core.batch.plan import BatchError, BatchOptions, check_folders, plan_local
from tests.batch.helpers import write_mask, write_photo

FOLDERS = ["a", "a/b", "a/b/a", "a/b/c", "d", "d/a", "d/e"]   # repeated names on purpose
PICKS = FOLDERS + ["", "new", "a/new", "a/b/new"]             # "" is the base; new: not made
IMAGES = ["p.png", "q.jpg", "a/p.png"]                        # relative to a folder

layouts = st.fixed_dictionaries({
    "images": st.lists(st.tuples(st.sampled_from(FOLDERS), st.sampled_from(IMAGES)),
                       min_size=1, max_size=6),
    "dir_links": st.lists(st.tuples(st.sampled_from(FOLDERS + [""]),
                                    st.sampled_from(["l", "a", "b", "c"]),
                                    st.sampled_from(FOLDERS)), max_size=3),
    "file_links": st.lists(st.tuples(st.sampled_from(FOLDERS), st.sampled_from(IMAGES)),
                           max_size=2),
    "input": st.sampled_from(FOLDERS),
    "output": st.sampled_from(PICKS + ["a/l", "d/l", "l", "a/b/l"]),
    "masks": st.none() | st.sampled_from(FOLDERS + ["a/l", "l"]),
})


class EchoEngine:
    """Returns its input: the run is about where files go, not about the pixels."""

    def __init__(self, threads: int):
        pass

    def denoise(self, pixels, *args, **kwargs):
        return pixels, 0.0

    def inpaint(self, pixels, *args, **kwargs):
        return pixels


def build(base: Path, layout: dict) -> None:
    for folder in FOLDERS:
        (base / folder).mkdir(parents=True, exist_ok=True)
    for i, (folder, name) in enumerate(layout["images"]):
        write_photo(base / folder / name, seed=i, size=(16, 16))
        write_mask(base / folder / Path(name).with_suffix(".mask.png"), size=(16, 16))
    for folder, name, target in layout["dir_links"]:
        link = base / folder / name
        if not os.path.lexists(link):
            link.symlink_to(base / target, target_is_directory=True)
    for i, (folder, name) in enumerate(layout["file_links"]):
        link = base / folder / f"link{i}.png"
        if not os.path.lexists(link):
            link.symlink_to(base / folder / name)  # may dangle: ignored as an input then


def snapshot(root: str | None) -> dict[str, str]:
    """Every real folder and file under ``root`` (symlinks not followed), with file hashes."""
    if root is None or not os.path.isdir(root):
        return {}
    real = os.path.realpath(root)
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(real):
        for d in dirnames:
            found[os.path.join(dirpath, d)] = "dir"
        for f in filenames:
            p = os.path.join(dirpath, f)
            found[p] = "link" if os.path.islink(p) else \
                hashlib.sha256(Path(p).read_bytes()).hexdigest()
    return found


def inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def options(base: Path, layout: dict) -> BatchOptions:
    masks = str(base / layout["masks"]) if layout["masks"] is not None else None
    return BatchOptions("inpaint" if masks else "denoise", str(base / layout["input"]),
                        str(base / layout["output"]), recursive=True, masks=masks,
                        force=True, workers=1, threads=1)


def planned_or_refused(opts: BatchOptions):
    """The planned items, or None when the batch is refused before it starts."""
    try:
        check_folders(opts)
        items = plan_local(opts)
        OutputGuard(opts, items).check_plan(items)
    except BatchError:
        return None
    return items


PLAN_SETTINGS = settings(max_examples=120, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@PLAN_SETTINGS
@given(layouts)
def test_planned_outputs_never_land_in_the_input_or_masks_tree(layout):
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        build(base, layout)
        opts = options(base, layout)
        items = planned_or_refused(opts)
        if items is None:
            return
        roots = [os.path.realpath(opts.input_dir)]
        if opts.masks:
            roots.append(os.path.realpath(opts.masks))
        protected = {os.path.realpath(it.input) for it in items}
        protected |= {os.path.realpath(it.mask) for it in items if it.mask}
        for item in items:
            if item.error:
                continue
            real = os.path.realpath(item.output)
            for root in roots:
                assert not inside(real, root), (item.output, real, root)
            assert real not in protected, (item.output, real)
            # the real folder of a (symlinked) input is protected too
            assert os.path.dirname(real) not in {os.path.dirname(p) for p in protected}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(layouts)
def test_real_runs_leave_the_input_and_masks_trees_untouched(layout):
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        build(base, layout)
        opts = options(base, layout)
        before = (snapshot(opts.input_dir), snapshot(opts.masks))
        try:
            report = BatchRunner(opts, engine_factory=EchoEngine).run()
        except BatchError:
            report = None
        assert (snapshot(opts.input_dir), snapshot(opts.masks)) == before
        if report is not None:
            for f in report.files:   # what was written is outside both trees
                if f.status == "ok":
                    real = os.path.realpath(f.output)
                    assert not inside(real, os.path.realpath(opts.input_dir))
                    if opts.masks:
                        assert not inside(real, os.path.realpath(opts.masks))
