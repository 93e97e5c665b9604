"""Build llama.cpp's own `llama-bench` from the sources bundled in the llama-cpp-python sdist.

Get the sdist once with `pip download llama-cpp-python==<version> --no-deps --no-binary :all:`
(or from PyPI's file list); the build uses the same default CMake options as the wheel
(`GGML_NATIVE=ON`, plus whatever `CMAKE_ARGS` says) and is cached by the sdist's hash.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shlex
import subprocess
import tarfile
from pathlib import Path

from assistant.errors import ConfigurationError

log = logging.getLogger(__name__)


def build_llama_bench(sdist: Path, cache_dir: Path) -> Path:
    """The path of a built `llama-bench`; builds it (about 10 minutes on 2 cores) unless cached."""
    if not sdist.is_file():
        raise ConfigurationError(f"no such sdist: {sdist}")
    key = hashlib.sha256(sdist.read_bytes() + os.environ.get("CMAKE_ARGS", "").encode()).hexdigest()[:16]
    root = cache_dir / "llama-bench" / key
    binary = root / "build" / "bin" / "llama-bench"
    if binary.exists():
        return binary
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if "/vendor/llama.cpp/" in m.name]
        archive.extractall(root / "src", members=members, filter="data")
    source = next((root / "src").glob("*/vendor/llama.cpp"), None)
    if source is None:
        raise ConfigurationError(f"{sdist} does not contain vendor/llama.cpp")
    configure = ["cmake", "-S", str(source), "-B", str(root / "build"), "-DCMAKE_BUILD_TYPE=Release",
                 "-DLLAMA_CURL=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
                 "-DLLAMA_BUILD_SERVER=OFF", "-DLLAMA_BUILD_TOOLS=ON",
                 *shlex.split(os.environ.get("CMAKE_ARGS", ""))]
    build = ["cmake", "--build", str(root / "build"), "--target", "llama-bench", "-j", str(os.cpu_count() or 2)]
    for cmd in (configure, build):
        log.info("bench.llama_bench.build cmd=%s", " ".join(cmd))
        try:
            subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=3600)
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", "") or ""
            raise ConfigurationError(f"building llama-bench failed: {exc}\n{detail[-2000:]}") from exc
    if not binary.exists():
        raise ConfigurationError(f"llama-bench was not produced at {binary}")
    return binary
