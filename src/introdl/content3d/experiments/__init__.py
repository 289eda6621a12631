"""Lecture 11 (part A) experiments, one module each."""
