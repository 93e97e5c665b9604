"""The code gates `make test` enforces: lint (ruff), types (mypy), and short functions in the product.

The rule sets live in pyproject.toml ([tool.ruff], [tool.mypy]); the layering check is
tests/test_layers.py.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ["app", "assistant", "actions", "channels", "knowledge", "workflows"]
MAX_FUNCTION_LINES = 60


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    result = _run("ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_finds_nothing(tmp_path):
    result = _run("mypy", "--cache-dir", str(tmp_path / "mypy-cache"))  # files and options: pyproject.toml
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout


def test_no_product_function_is_longer_than_60_lines():
    long = []
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            if "versions" in path.parts and "migrations" in path.parts:
                continue  # a migration declares a schema as it was, table by table: a list, not logic
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    if lines > MAX_FUNCTION_LINES:
                        long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "\n".join(long)
