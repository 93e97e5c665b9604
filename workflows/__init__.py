"""Durable request workflows on Temporal, their activities, connectors and worker."""
