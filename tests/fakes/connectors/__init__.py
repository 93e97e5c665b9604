"""Local fake vendor servers (Jira, Okta, Microsoft Graph, BambooHR) speaking each vendor's wire format."""
