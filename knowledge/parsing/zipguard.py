"""Zip-bomb guard for Office files: sizes and ratios from the central directory, before unpacking."""

from __future__ import annotations

import io
import zipfile

from knowledge.errors import InvalidDocument
from knowledge.parsing.types import ParseLimits


def check_zip(data: bytes, filename: str, limits: ParseLimits, *, required: str) -> None:
    """Refuse damaged, encrypted or over-inflating archives; zipfile later enforces the declared sizes."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InvalidDocument(f"{filename!r} is damaged (not a readable zip package)") from exc
    with archive:
        entries = archive.infolist()
        if len(entries) > limits.max_zip_entries:
            raise InvalidDocument(f"{filename!r} has too many parts ({len(entries)}); refusing it")
        names = {e.filename for e in entries}
        if required not in names:
            raise InvalidDocument(f"{filename!r} is not a Word document (no {required} inside)")
        if any(e.flag_bits & 0x1 for e in entries):
            raise InvalidDocument(f"{filename!r} is encrypted; upload an unprotected copy")
        unpacked = sum(e.file_size for e in entries)
        packed = max(1, sum(e.compress_size for e in entries))
        if unpacked > limits.max_unpacked_bytes or unpacked / packed > limits.max_compression_ratio:
            raise InvalidDocument(
                f"{filename!r} unpacks to {unpacked:,} bytes from {packed:,} (a zip bomb?); refusing it"
            )
