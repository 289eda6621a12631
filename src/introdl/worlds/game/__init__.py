"""A GameGAN-style neural simulator of a small Pac-Man-like grid game.

``engine`` is the game (walls, food, power pellets, ghosts), ``agent`` the policy that records
(frame, action) clips, ``dynamics`` / ``memory`` / ``renderer`` / ``discriminator`` GameGAN's
parts, ``model`` their assembly, ``train`` the reconstruction + adversarial training,
``evaluate`` the measurements, and ``play`` the terminal player.
"""
