"""`aios bench knowledge`: ingestion, query latency by scale, and the answer model through the service
next to the same model driven directly (ratios are measured side by side in one run)."""

from __future__ import annotations

from app.bench.knowledge.runner import run_bench

__all__ = ["run_bench"]
