"""Lecture 11 — AI for 3D content creation: differentiable rendering and inverse graphics.

Part A builds a DIB-R-style differentiable rasteriser in plain PyTorch (checked against
Mitsuba 3), fits meshes to images through it, learns single-image 3D from re-rendering
loss, gets multi-view data from a viewpoint-disentangled generator (GANverse3D), and ships
Kaolin-like tools (sampling, voxels, marching cubes, metrics). Part B, procedural worlds,
lives in :mod:`introdl.worlds`.
"""
