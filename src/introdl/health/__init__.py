"""Lecture 12 — AI in healthcare: models against experts, and evaluation that keeps them fair.

No patient data can be had offline, so the images here are real where a pip package
ships them (scikit-image's fundus photograph and immunohistochemistry slide) and
otherwise simulated from stated generative models; each simulator's module docstring
states its model and assumptions. Simulated data demonstrates methods, not clinical
performance. :mod:`.medmnist` reads the real public MedMNIST files when a user has them.
"""
