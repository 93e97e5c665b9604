"""Jira Service Management Cloud: IT tickets as customer requests."""

from workflows.connectors.jira.client import JiraServiceManagement

__all__ = ["JiraServiceManagement"]
