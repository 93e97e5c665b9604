"""Stored originals: the uploaded bytes of each document's current version, to rebuild the index."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePath


class Originals:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, document_id: str, version: int, filename: str) -> Path:
        suffix = PurePath(filename).suffix.lower()[:10]
        return self.root / document_id / f"v{version}{suffix}"

    def save(self, document_id: str, version: int, filename: str, data: bytes) -> Path:
        """Written to a temporary file and renamed, so a crash never leaves half a file."""
        target = self.path(document_id, version, filename)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def read(self, document_id: str, version: int, filename: str) -> bytes:
        return self.path(document_id, version, filename).read_bytes()

    def prune(self, document_id: str, keep: Path | None) -> None:
        """Remove every stored version of a document except `keep`."""
        folder = self.root / document_id
        if not folder.is_dir():
            return
        for path in folder.iterdir():
            if keep is None or path != keep:
                path.unlink(missing_ok=True)
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
