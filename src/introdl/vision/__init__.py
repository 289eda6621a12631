"""Lecture 3 — Convolutional networks: convolution, classification, detection,
segmentation and end-to-end driving."""
