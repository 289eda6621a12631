"""NumPy from-scratch pieces the lectures derive by hand (each tested against PyTorch)."""

from introdl.scratch.layers import Dense, Layer, ReLU, Sigmoid, Tanh, sigmoid
from introdl.scratch.losses import BinaryCrossEntropy, MeanSquaredError, SoftmaxCrossEntropy
from introdl.scratch.network import Sequential, mlp, to_torch
from introdl.scratch.optim import SGD

__all__ = ["Dense", "Layer", "ReLU", "Sigmoid", "Tanh", "sigmoid", "BinaryCrossEntropy",
           "MeanSquaredError", "SoftmaxCrossEntropy", "Sequential", "mlp", "to_torch", "SGD"]
