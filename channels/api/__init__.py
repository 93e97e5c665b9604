"""The gateway's HTTP API (DESIGN.md, "Gateway HTTP API")."""
