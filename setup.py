"""Build hook: put the packaged models into the package (everything else is in pyproject.toml).

``app/spec/model_index.json`` marks the models that go into the wheel: each task's default, the
float source of an int8 default (the app runs it on CUDA) and any other model marked ``wheel``.
Their folders are checked against the index, then copied, without training checkpoints, to
``app/models/<id>/`` in the build, where ``app.core.runtime.registry`` finds them wherever the package
is installed.  An editable install skips the copy: it runs the checkout's ``models/``.
"""

import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # the index reader is stdlib-only app.spec code

from app.spec.model_index import check_folder, load_index  # noqa: E402


def packaged_model_files() -> list[Path]:
    """Every file of every model the index marks for the wheel, relative to the root; a folder
    that disagrees with the index stops the build."""
    index = load_index()
    problems = index.problems(every_task=True)
    if problems:
        raise SystemExit("model index: " + "; ".join(problems))
    files = []
    for model_id in index.wheel_ids():
        folder = ROOT / "models" / model_id
        if not folder.is_dir():
            raise SystemExit(f"model index: models/{model_id} is missing; build from a checkout "
                             "that has it (git lfs or a full clone)")
        files += [Path("models", model_id, name) for name in check_folder(index, folder)]
    return files


class BuildPyWithModels(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "app" / "models"
        shutil.rmtree(target, ignore_errors=True)  # no model left over from an older build
        for rel in packaged_model_files():
            dest = target / rel.relative_to("models")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / rel, dest)


class SdistWithModels(sdist):
    """The sdist carries the packaged models too, so that a wheel can be built from it."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        for rel in packaged_model_files():
            dest = Path(base_dir) / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / rel, dest)


setup(cmdclass={"build_py": BuildPyWithModels, "sdist": SdistWithModels})
