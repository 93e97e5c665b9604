"""`aios bench ...`: benchmarks that start the real services and measure them side by side."""
