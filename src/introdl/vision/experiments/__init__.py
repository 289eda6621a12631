"""vision experiments, one module per experiment (auto-discovered)."""
