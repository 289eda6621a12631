"""NumPy from-scratch pieces the lectures derive by hand (each tested against PyTorch)."""
