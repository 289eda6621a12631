"""Lecture 1 — Introduction to deep learning: the perceptron, dense networks, training them.

Experiments live in :mod:`introdl.foundations.experiments`, one module each.
"""
