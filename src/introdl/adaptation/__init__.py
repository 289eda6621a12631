"""Lecture 10 — Taming dataset bias via domain adaptation: digit domains, the bias, and its fixes.

A classifier trained on one domain (the *source*) meets another (the *target*) whose
images differ in style but not in meaning. :mod:`.domains` builds the digit domains;
:mod:`.networks` the shared encoder/classifier; :mod:`.train` the source-only loop and
evaluation; one module per method (:mod:`.dann`, :mod:`.adda`, :mod:`.dance`,
:mod:`.pac`, ...) holds its losses as small ``nn.Module`` s and its visible training step.
"""
