"""The request forms: one validation action per form, sharing confirmation and submission."""

from __future__ import annotations

from actions.forms.access import AccessForm
from actions.forms.base import RequestForm
from actions.forms.expense import ExpenseForm
from actions.forms.it_issue import ITIssueForm
from actions.forms.time_off import TimeOffForm

FORMS: dict[str, type[RequestForm]] = {
    f.form: f for f in (TimeOffForm, AccessForm, ExpenseForm, ITIssueForm)
}

__all__ = ["FORMS", "AccessForm", "ExpenseForm", "ITIssueForm", "RequestForm", "TimeOffForm"]
