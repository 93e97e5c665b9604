"""The weekly digest: one durable workflow per person sends them a short summary at their local time."""
