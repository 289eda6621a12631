"""Lecture 11 (part B) experiments, one module each."""
