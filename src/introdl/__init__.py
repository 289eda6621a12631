"""introdl: the MIT 6.S191 (2021) lectures as tested PyTorch reference implementations.

Each lecture system is a small library module plus a registered experiment that
measures the lecture's claim on real data; see ``introdl list``.
"""

__version__ = "0.1.0"
