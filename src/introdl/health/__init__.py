"""Lecture 12 — AI in healthcare: models against experts, and evaluation that keeps them fair.

Part A (screening, pathology, label quality, subgroup fairness, problem formulation,
explanations) runs on images that are real where a pip package ships them (scikit-image's
fundus photograph and immunohistochemistry slide) and otherwise simulated from stated
generative models; each simulator's module docstring states its model and assumptions.
Simulated data demonstrates methods, not clinical performance. :mod:`.medmnist` reads the
real public MedMNIST files when a user has them.

Part B: :mod:`.genomics` (DeepVariant-style variant calling on the lambda phage genome with
the real bowtie2 aligner) and :mod:`.flood` (rainfall-runoff on real river series, and a
learned surrogate of a flood simulator).
"""
