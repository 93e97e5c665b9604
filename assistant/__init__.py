"""Core shared by every service: settings, directory and identity, errors, the CLI."""
