"""Documents, retrieval and grounded answers."""
