"""sequences experiments, one module per experiment (auto-discovered)."""
