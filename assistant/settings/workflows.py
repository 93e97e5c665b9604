"""Settings of the workflow worker and of each enterprise connector (one class per system)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, env_file=".env", extra="ignore")


class WorkflowSettings(BaseSettings):
    """Approval policies, activity timeouts and which connector serves each capability."""

    model_config = _config("AIOS_WORKFLOWS_")

    policies_path: Path | None = Field(None, description="approval policies YAML; default <data>/policies.yml")
    activity_timeout_seconds: float = Field(
        30.0, gt=0, le=3600, description="start-to-close timeout of one connector or notification call"
    )
    workflow_task_timeout_seconds: float = Field(
        10.0, gt=0, le=120, description="how long a workflow task may take before another worker retries it"
    )
    max_retry_interval_seconds: float = Field(
        60.0, gt=0, description="upper bound of Temporal's backoff between activity attempts"
    )
    connector_timeout_seconds: float = Field(
        10.0, gt=0, le=300, description="per HTTP call to a vendor API (connect + read)"
    )
    hr: Literal["embedded", "bamboohr"] = Field("embedded", description="where approved leave is recorded")
    calendar: Literal["embedded", "graph"] = Field("embedded", description="out-of-office events")
    identity: Literal["embedded", "okta"] = Field("embedded", description="group memberships")
    itsm: Literal["embedded", "jira"] = Field("embedded", description="IT tickets")
    expenses: Literal["embedded"] = Field("embedded", description="expense filing")
    notify_poll_seconds: float = Field(
        0.5, gt=0, le=60, description="how often the gateway delivers queued notifications to channels"
    )


class JiraSettings(BaseSettings):
    """Jira Service Management Cloud (REST API /rest/servicedeskapi)."""

    model_config = _config("AIOS_JIRA_")

    base_url: str = Field("", description="e.g. https://example.atlassian.net")
    email: str = Field("", description="account email for basic auth")
    api_token: SecretStr = Field(SecretStr(""), description="Atlassian API token")
    service_desk_id: str = Field("1", description="service desk that receives IT tickets")
    request_type_id: str = Field("10", description="request type of an IT issue")


class OktaSettings(BaseSettings):
    """Okta Management API (group membership)."""

    model_config = _config("AIOS_OKTA_")

    org_url: str = Field("", description="e.g. https://example.okta.com")
    api_token: SecretStr = Field(SecretStr(""), description="SSWS API token")


class GraphSettings(BaseSettings):
    """Microsoft Graph (calendar events), app-only client-credentials auth."""

    model_config = _config("AIOS_GRAPH_")

    base_url: str = Field("https://graph.microsoft.com/v1.0", description="Graph API root")
    token_url: str = Field("", description="OAuth token endpoint; default from the tenant id")
    tenant_id: str = Field("", description="Entra tenant id")
    client_id: str = Field("", description="app registration id")
    client_secret: SecretStr = Field(SecretStr(""), description="app secret")

    @property
    def effective_token_url(self) -> str:
        return self.token_url or f"https://login.microsoftonline.com/{self.tenant_id}/oauth2/v2.0/token"


class BambooHRSettings(BaseSettings):
    """BambooHR (time-off requests)."""

    model_config = _config("AIOS_BAMBOOHR_")

    base_url: str = Field("https://api.bamboohr.com", description="API host")
    company_domain: str = Field("", description="the company's BambooHR subdomain")
    api_key: SecretStr = Field(SecretStr(""), description="API key (basic auth user, password 'x')")
    time_off_types: str = Field(
        "vacation=78,sick=79,personal=80,parental=81",
        description="our leave types to BambooHR time-off type ids, comma separated",
    )

    def type_ids(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for pair in self.time_off_types.split(","):
            name, _, value = pair.partition("=")
            if name.strip() and value.strip():
                out[name.strip()] = value.strip()
        return out
