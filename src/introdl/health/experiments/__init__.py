"""Lecture 12 experiments, one module each."""
