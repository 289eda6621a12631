"""Building blocks shared across lectures (networks, heads, layers)."""
