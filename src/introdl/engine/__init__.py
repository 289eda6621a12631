"""The training engine: the lecture's loop (forward -> loss -> backward -> step), made reusable.

``fit`` trains any ``nn.Module`` on a ``Dataset`` with a loss module; it adds what a
real run needs — validation, early stopping, clipping, LR schedules, atomic
checkpoints with exact resume, Ctrl-C handling, NaN detection, a progress bar, and
data parallelism under torchrun — without hiding the loop.
"""

from introdl.engine.loop import History, TrainConfig, evaluate, fit
from introdl.engine.metrics import accuracy
from introdl.engine.optim import OPTIMIZERS, make_optimizer, make_scheduler

__all__ = ["History", "TrainConfig", "fit", "evaluate", "accuracy", "OPTIMIZERS",
           "make_optimizer", "make_scheduler"]
