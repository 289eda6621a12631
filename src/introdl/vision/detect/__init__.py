"""Lecture 3, object detection: where the digits are and which digits they are.

Three detectors share one data set (:mod:`.scenes`) and one evaluation (:mod:`.evaluate`):

- :mod:`.sliding` — every box at several scales through a small CNN, then NMS;
- :mod:`.rcnn` — R-CNN: class-agnostic proposals (:mod:`.proposals`), each warped crop
  through the same CNN (:mod:`.classifier`);
- :mod:`.faster` — Faster R-CNN (torchvision) with a learned region-proposal network.
"""
