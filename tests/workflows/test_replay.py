"""Committed histories (tests/workflows/histories/*.json) replay through the current workflow code.

A change that would break running workflows (a new activity, a reordered step, a different timer)
fails here; guard it with `workflow.patched("...")` and keep the old histories passing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.digest.workflow import DigestWorkflow
from workflows.request_workflow import RequestWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
REQUIRED = {"time_off_approved", "access_rejected_at_stage_2", "time_off_reminded_escalated_expired",
            "time_off_escalated_then_approved", "time_off_cancelled", "access_mid_approval",
            "time_off_delegate_revoked_then_approved", "time_off_delegation_expired_then_rejected",
            "weekly_digest_sent"}


def test_the_required_scenarios_are_committed():
    assert REQUIRED <= {p.stem for p in HISTORIES}


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays_on_current_code(path: Path):
    raw = json.loads(path.read_text())
    workflow_id = path.stem
    replayer = Replayer(workflows=[RequestWorkflow, DigestWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(WorkflowHistory.from_json(workflow_id, raw),
                                            raise_on_replay_failure=True)
    assert result.replay_failure is None
