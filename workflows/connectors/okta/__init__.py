"""Okta: group membership through the Management API."""

from workflows.connectors.okta.client import OktaIdentity

__all__ = ["OktaIdentity"]
