"""Lecture 3, end-to-end driving: camera + route map -> a distribution over steering.

- :mod:`.sim` — a small NumPy road world with forks, a camera renderer, a route map,
  car dynamics and a route-following expert;
- :mod:`.mdn` — the mixture-density head and its negative log-likelihood;
- :mod:`.model` — one CNN per input, features concatenated, an MDN or a single output.
"""
