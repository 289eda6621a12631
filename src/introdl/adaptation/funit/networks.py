"""FUNIT's and COCO-FUNIT's translator and FUNIT's multi-task conditional discriminator, for
32x32 images (Liu et al., ICCV 2019; Saito et al., ECCV 2020), scaled down for a CPU.

Translator ``G(x, {y_1..y_K})``::

    content  = E_c(x)                                (2w, 16, 16), instance-normalised
    code     = mean_k E_s(y_k)                       FUNIT: the class code, averaged over K
    code     = mean_k E_s(y_k) * gate(E_c(x)) + b    COCO-FUNIT (our simplified form)
    image    = Dec(content; AdaIN params = MLP(code))

FUNIT's style encoder sees only the example images, so whatever it picks up from them
(their digit's shape, their pose) goes into every translation. COCO-FUNIT's
content-conditioned style encoder also sees the content image: here a sigmoid gate
computed from the content features chooses, per code dimension, what of the example's code
is used for this content image, and a learned constant style bias ``b`` (the paper's
"constant style bias", CSB), the same for every image, carries what holds for all styles.
The paper mixes the two inside the encoder's layers; the gate is our stand-in with the same
two ingredients (content conditioning and a constant bias). The style encoder has no
normalisation layers (they would remove the statistics it must read); the content encoder
and the decoder's up-sampling layer do.

Discriminator ``D(x)``: a small convolutional trunk and one real/fake output per training
style and patch, ``(N, S, 8, 8)``; an image of style ``s`` is scored only by output ``s``
(the multi-task conditional discriminator). Its trunk's pooled features serve FUNIT's
feature-matching loss.
"""

from __future__ import annotations

import torch
from torch import nn

from introdl.nn.adain_blocks import AdaINParams, AdaINResBlock
from introdl.nn.generators import ResBlock


def _conv(cin: int, cout: int, k: int, stride: int = 1, norm: bool = True) -> list[nn.Module]:
    pad = (k - 1) // 2 if stride == 1 else 1
    mods: list[nn.Module] = [nn.ReflectionPad2d(pad), nn.Conv2d(cin, cout, k, stride)]
    if norm:
        mods.append(nn.InstanceNorm2d(cout))
    return [*mods, nn.ReLU(inplace=True)]


class ContentEncoder(nn.Module):
    """``(N, 3, 32, 32)`` -> content map ``(N, 2w, 16, 16)``."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.net = nn.Sequential(*_conv(3, width, 3), *_conv(width, 2 * width, 4, 2),
                                 ResBlock(2 * width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class StyleEncoder(nn.Module):
    """``(N, 3, 32, 32)`` -> style code ``(N, code)``: strided convolutions, global mean pool."""

    def __init__(self, width: int, code: int) -> None:
        super().__init__()
        self.net = nn.Sequential(*_conv(3, width, 3, norm=False),
                                 *_conv(width, 2 * width, 4, 2, norm=False),
                                 *_conv(2 * width, 4 * width, 4, 2, norm=False),
                                 *_conv(4 * width, 4 * width, 4, 2, norm=False),
                                 nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * width, code))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Decoder(nn.Module):
    """Content map ``(N, 2w, 16, 16)`` and style code -> image ``(N, 3, 32, 32)`` in 0..1."""

    def __init__(self, width: int, code: int, blocks: int = 1) -> None:
        super().__init__()
        self.params = AdaINParams(code, 2 * width, 2 * blocks)
        self.blocks = nn.ModuleList(AdaINResBlock(2 * width) for _ in range(blocks))
        self.up = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                *_conv(2 * width, width, 3), nn.ReflectionPad2d(1),
                                nn.Conv2d(width, 3, 3), nn.Sigmoid())

    def forward(self, content: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        p = self.params(code)
        h = content
        for i, block in enumerate(self.blocks):
            h = block(h, p[2 * i], p[2 * i + 1])
        return self.up(h)


class Translator(nn.Module):
    """FUNIT (``coco=False``) or COCO-FUNIT (``coco=True``) few-shot translator.

    Shape:
        - ``x``: content images ``(N, 3, 32, 32)``; ``examples``: ``(N, K, 3, 32, 32)``, the
          K example images of each row's target style; output ``(N, 3, 32, 32)`` in 0..1.
    """

    def __init__(self, width: int = 16, code: int = 32, coco: bool = False, blocks: int = 1
                 ) -> None:
        super().__init__()
        self.coco = coco
        self.content = ContentEncoder(width)
        self.style = StyleEncoder(width, code)
        self.decoder = Decoder(width, code, blocks)
        if coco:
            self.gate = nn.Sequential(*_conv(2 * width, 4 * width, 4, 2, norm=False),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                      nn.Linear(4 * width, code))
            self.style_bias = nn.Parameter(torch.zeros(code))  # the constant style bias

    def style_code(self, examples: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
        """The code of ``examples`` ``(N, K, 3, H, W)`` (mean over K) for ``content`` images.

        ``content`` may be the images ``(N, 3, H, W)`` or their content maps; FUNIT ignores it.
        """
        n, k = examples.shape[:2]
        code = self.style(examples.flatten(0, 1)).view(n, k, -1).mean(1)
        if not self.coco:
            return code
        if content.shape[1] == 3:
            content = self.content(content)
        return code * torch.sigmoid(self.gate(content)) + self.style_bias

    def forward(self, x: torch.Tensor, examples: torch.Tensor) -> torch.Tensor:
        content = self.content(x)
        return self.decoder(content, self.style_code(examples, content))

    def translate_and_reconstruct(self, x: torch.Tensor, examples: torch.Tensor
                                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(G(x, examples), G(x, {x}))`` sharing one content encoding (training)."""
        content = self.content(x)
        codes = torch.cat([self.style_code(examples, content),
                           self.style_code(x[:, None], content)])
        out = self.decoder(torch.cat([content, content]), codes)
        return out[:len(x)], out[len(x):]

    @torch.no_grad()
    def translate(self, x: torch.Tensor, examples: torch.Tensor, batch_size: int = 256
                  ) -> torch.Tensor:
        """``G(x, examples)`` in eval mode, batched."""
        was = self.training
        self.eval()
        out = torch.cat([self(a, b) for a, b in zip(x.split(batch_size),
                                                     examples.split(batch_size), strict=True)])
        self.train(was)
        return out


class MultiTaskDiscriminator(nn.Module):
    """Per-style, per-patch real/fake logits ``(N, styles, 8, 8)`` and pooled features.

    Shape:
        - Input ``(N, 3, 32, 32)``; :meth:`score` ``(N, 8, 8)`` (each image's own style's
          output); :meth:`features` ``(N, 2w)``.
    """

    def __init__(self, styles: int, width: int = 32) -> None:
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Conv2d(3, width, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * width, 2 * width, 3, 1, 1), nn.LeakyReLU(0.2, inplace=True))
        self.head = nn.Conv2d(2 * width, styles, 1)

    def score(self, x: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits of each image's own ``style`` output ``(N, 8, 8)``, pooled features)."""
        h = self.trunk(x)
        logits = self.head(h)[torch.arange(len(x)), style]
        return logits, h.mean(dim=(2, 3))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk(x).mean(dim=(2, 3))
