"""Figures and pages shared by every experiment: plotting helpers and the course index."""
