"""Road-sign augmentation on a [N,3,H,W] batch in [0,1], on the batch at once (no per-image Python).

Tuned to the bundled model's confusions (speed limit 60 and 80, general caution and pedestrians, bumpy road and
road work): the differences are small shapes inside the sign, so the geometry varies the way a camera passing a
sign does (scale, perspective, rotation, shift), and the pixels the way weather and exposure do (lighting, colour
cast, gamma, blur, low resolution, occlusion by a branch or a sticker). No flips: they change the meaning of many
signs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentSettings:
    rotation_deg: float = 12.0
    scale: tuple[float, float] = (0.85, 1.2)
    shear: float = 0.08
    shift: float = 0.08
    perspective: float = 0.12
    brightness: tuple[float, float] = (0.55, 1.45)
    contrast: tuple[float, float] = (0.6, 1.4)
    saturation: tuple[float, float] = (0.7, 1.3)
    gamma: tuple[float, float] = (0.7, 1.5)
    colour_cast: float = 0.08
    blur_p: float = 0.25
    lowres_p: float = 0.25
    occlusion_p: float = 0.3
    occlusion_side: tuple[float, float] = (0.1, 0.3)


def augment(x: torch.Tensor, gen: torch.Generator, s: AugmentSettings = AugmentSettings()) -> torch.Tensor:
    n, _, h, w = x.shape

    def uniform(lo: float, hi: float, *size: int) -> torch.Tensor:
        return torch.rand(size or (n,), generator=gen) * (hi - lo) + lo

    # geometry: a projective map from output to input coordinates ([-1,1]², grid_sample's convention)
    angle = uniform(-s.rotation_deg, s.rotation_deg) * math.pi / 180
    scale = uniform(*s.scale)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    shear = uniform(-s.shear, s.shear)
    homography = torch.zeros(n, 3, 3)
    homography[:, 0, 0], homography[:, 0, 1], homography[:, 0, 2] = cos, -sin + shear, uniform(-s.shift, s.shift)
    homography[:, 1, 0], homography[:, 1, 1], homography[:, 1, 2] = sin, cos, uniform(-s.shift, s.shift)
    homography[:, 2, 0], homography[:, 2, 1] = uniform(-s.perspective, s.perspective), uniform(-s.perspective, s.perspective)
    homography[:, 2, 2] = 1.0
    ys, xs = torch.meshgrid(torch.linspace(-1 + 1 / h, 1 - 1 / h, h), torch.linspace(-1 + 1 / w, 1 - 1 / w, w), indexing="ij")
    base = torch.stack([xs, ys, torch.ones_like(xs)], dim=-1).view(1, h * w, 3)
    mapped = base @ homography.transpose(1, 2)
    grid = (mapped[..., :2] / mapped[..., 2:].clamp_min(1e-3)).view(n, h, w, 2)
    x = F.grid_sample(x, grid.to(x.dtype), mode="bilinear", padding_mode="border", align_corners=False)

    # lighting: exposure, colour cast, saturation, contrast, gamma
    x = x * uniform(*s.brightness).view(n, 1, 1, 1) * (1 + uniform(-s.colour_cast, s.colour_cast, n, 3, 1, 1))
    grey = x.mean(dim=1, keepdim=True)
    x = grey + (x - grey) * uniform(*s.saturation).view(n, 1, 1, 1)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (mean + (x - mean) * uniform(*s.contrast).view(n, 1, 1, 1)).clamp_(0, 1)
    x = x.pow(uniform(*s.gamma).view(n, 1, 1, 1))

    blur = torch.rand(n, generator=gen) < s.blur_p
    if blur.any():
        k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
        kernel = ((k[:, None] * k[None, :]) / 256.0).expand(3, 1, 5, 5).contiguous()
        x[blur] = F.conv2d(F.pad(x[blur], (2, 2, 2, 2), mode="replicate"), kernel, groups=3)

    lowres = torch.rand(n, generator=gen) < s.lowres_p
    if lowres.any():
        small = int(torch.randint(max(12, h // 6), max(13, h // 2), (1,), generator=gen))
        x[lowres] = F.interpolate(F.interpolate(x[lowres], size=small, mode="bilinear", align_corners=False, antialias=True),
                                  size=h, mode="bilinear", align_corners=False)

    # occlusion: one rectangle of flat colour or noise per chosen image (loops over at most n rectangles)
    occluded = (torch.rand(n, generator=gen) < s.occlusion_p).nonzero().flatten().tolist()
    for i in occluded:
        rh = int(h * float(uniform(*s.occlusion_side, 1)))
        rw = int(w * float(uniform(*s.occlusion_side, 1)))
        top = int(torch.randint(0, h - rh + 1, (1,), generator=gen))
        left = int(torch.randint(0, w - rw + 1, (1,), generator=gen))
        if float(torch.rand(1, generator=gen)) < 0.5:
            x[i, :, top:top + rh, left:left + rw] = torch.rand(3, 1, 1, generator=gen)
        else:
            x[i, :, top:top + rh, left:left + rw] = torch.rand(3, rh, rw, generator=gen)
    return x
