"""Folders given as local paths or as pyarrow file system URLs, for the Ray backend.

A :class:`Location` is ``s3://bucket/photos``, ``gs://…``, ``hdfs://…``, ``file:///mnt/nfs/…``
(opened with ``pyarrow.fs.FileSystem.from_uri``) or a local path (pyarrow's local file system).
A URL's files are copied to a local temporary folder for the work (:func:`download`) and each
output is uploaded to a hidden temporary name and then moved into place (:func:`upload`).

pyarrow is optional (``pip install "aestudio[cluster]"``) and imported only when used.
"""

from __future__ import annotations

import os
import posixpath
import secrets
import shutil

from .plan import BatchError, is_url

__all__ = ["Location", "download", "relative_inside", "upload"]


class Location:
    """A folder given as a path or a URL: its pyarrow file system and base path."""

    def __init__(self, location: str):
        from pyarrow import fs as pafs

        self.location = location
        if is_url(location):
            self.fs, self.base = pafs.FileSystem.from_uri(location)
            self.base = self.base.rstrip("/")
            self.url = True
        else:
            self.fs = pafs.LocalFileSystem()
            self.base = os.path.abspath(os.path.expanduser(location))
            self.url = False

    def path(self, relative: str) -> str:
        """The file system path of a relative POSIX path."""
        if self.url:
            return f"{self.base}/{relative}" if self.base else relative
        return os.path.join(self.base, *relative.split("/"))

    def name(self, relative: str) -> str:
        """What the report shows: the URL or the local path."""
        if self.url:
            return self.location.rstrip("/") + "/" + relative
        return self.path(relative)

    def scan(self, recursive: bool, suffixes: tuple[str, ...],
             exclude: tuple[str, ...] = ()) -> list[str]:
        from pyarrow import fs as pafs

        info = self.fs.get_file_info(self.base)
        if info.type != pafs.FileType.Directory:
            raise BatchError(f"input folder {self.location} does not exist or is not a folder")
        wanted = tuple(s.lower() for s in suffixes)
        found = []
        for entry in self.fs.get_file_info(pafs.FileSelector(self.base, recursive=recursive)):
            if entry.type != pafs.FileType.File:
                continue
            rel = entry.path[len(self.base):].lstrip("/").replace(os.sep, "/")
            parts = rel.split("/")
            if any(p.startswith(".") for p in parts) or not rel.lower().endswith(wanted):
                continue
            if any(rel == e or rel.startswith(e + "/") for e in exclude):
                continue
            found.append(rel)
        return sorted(found)

    def exists(self, paths: list[str]) -> list[bool]:
        from pyarrow import fs as pafs

        return [i.type == pafs.FileType.File for i in self.fs.get_file_info(paths)]


def relative_inside(child: Location, parent: Location) -> str | None:
    """``child``'s path relative to ``parent`` when it lies inside it (same store), else None."""
    if child.url != parent.url or type(child.fs) is not type(parent.fs):
        return None
    c, p = child.base.rstrip("/"), parent.base.rstrip("/")
    if child.url:
        if c.startswith(p + "/"):
            return c[len(p) + 1:]
        return None
    try:
        rel = os.path.relpath(os.path.realpath(c), os.path.realpath(p))
    except ValueError:
        return None
    return None if rel.startswith("..") or rel == "." else rel.replace(os.sep, "/")


def download(fs, path: str, local: str) -> None:
    os.makedirs(os.path.dirname(local), exist_ok=True)
    with fs.open_input_stream(path) as src, open(local, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


def upload(local: str, fs, path: str, url: bool) -> None:
    """Copy to a hidden temporary name beside ``path``, then move it into place."""
    parent, name = posixpath.split(path) if url else os.path.split(path)
    if parent:
        fs.create_dir(parent, recursive=True)
    tmp = (posixpath if url else os.path).join(parent, f".{name}.{secrets.token_hex(4)}.part")
    try:
        with open(local, "rb") as src, fs.open_output_stream(tmp) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        fs.move(tmp, path)
    except BaseException:
        try:
            fs.delete_file(tmp)
        except Exception:  # noqa: BLE001
            pass
        raise
