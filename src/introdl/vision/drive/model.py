"""One CNN per input, features concatenated, then a steering head (Lecture 3, driving).

Following Amini et al. (2019), "Variational end-to-end navigation": the camera image and
the coarse route map each pass through their own CNN; the flattened features are
concatenated and a fully-connected layer feeds either an MDN head (a distribution over
steering, :mod:`.mdn`) or a single output trained with squared error (the baseline).

The two images travel packed in one tensor so the generic training engine can carry
them as a single input: ``x = [camera.flatten(), route.flatten()]``.
"""

from __future__ import annotations

import torch
from torch import nn

from introdl.vision.drive.mdn import MDNHead
from introdl.vision.drive.sim import CAM_H, CAM_W, MAP_SIZE

CAM_PIXELS, MAP_PIXELS = CAM_H * CAM_W, MAP_SIZE * MAP_SIZE


def pack(camera: torch.Tensor, route: torch.Tensor) -> torch.Tensor:
    """(B, 32, 64) and (B, 16, 16) -> (B, 2048 + 256)."""
    return torch.cat([camera.flatten(1), route.flatten(1)], dim=1)


def _conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.ReLU())


class DrivingNet(nn.Module):
    """Args:
        use_route: give the net the route map (else camera only).
        head: "mdn" (mixture of ``k`` Gaussians) or "mse" (one steering value).
        k: mixture components for the MDN head.

    Inputs: x (B, 2304) from :func:`pack`.
    Outputs: (logits, means, log_stds) each (B, k) for "mdn"; steering (B,) for "mse".
    """

    def __init__(self, use_route: bool = True, head: str = "mdn", k: int = 3) -> None:
        super().__init__()
        self.use_route, self.head_kind = use_route, head
        self.camera_cnn = nn.Sequential(_conv(1, 16), _conv(16, 32), _conv(32, 32))  # -> 4x8
        n = 32 * 4 * 8
        if use_route:
            self.route_cnn = nn.Sequential(_conv(1, 8), _conv(8, 16))  # 16x16 -> 4x4
            n += 16 * 4 * 4
        self.fc = nn.Sequential(nn.Linear(n, 64), nn.ReLU())
        if head not in ("mdn", "mse"):
            raise ValueError(f"head must be 'mdn' or 'mse', got {head!r}")
        self.head = MDNHead(64, k) if head == "mdn" else nn.Linear(64, 1)

    def forward(self, x: torch.Tensor):
        camera, route = x.split([CAM_PIXELS, MAP_PIXELS], dim=1)
        feats = [self.camera_cnn(camera.view(-1, 1, CAM_H, CAM_W)).flatten(1)]  # (B, 1024)
        if self.use_route:
            feats.append(self.route_cnn(route.view(-1, 1, MAP_SIZE, MAP_SIZE)).flatten(1))
        out = self.head(self.fc(torch.cat(feats, dim=1)))
        return out if self.head_kind == "mdn" else out.squeeze(1)  # (B, 1) -> (B,)
