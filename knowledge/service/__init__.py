"""The knowledge service (FastAPI), run by `aios knowledge serve`."""

from __future__ import annotations

from knowledge.service.app import create_app

__all__ = ["create_app"]
