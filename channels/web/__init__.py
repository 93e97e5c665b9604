"""The web chat widget (static page served by the gateway)."""
