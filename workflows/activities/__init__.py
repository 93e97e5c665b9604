"""Activities, grouped by what they talk to (each a method of a class given its client)."""
