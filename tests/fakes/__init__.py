"""Local fakes of external SaaS (Slack Web API, Bot Connector, a JWKS host), speaking their wire formats."""
