"""Synthetic real-camera noise on clean sRGB crops, in torch (training only).

A camera writes ``jpeg(tone(gamma(ccm(wb * demosaic(raw)))))``, where the raw mosaic carries
shot noise (variance grows with the signal) and read noise. Following Brooks et al. 2019
("Unprocessing Images for Learned Raw Denoising"), a clean sRGB crop is taken back to linear
camera space with random camera parameters, noise is drawn on an RGGB mosaic, demosaicked and
processed forward again. Only the noise goes through the mosaic and demosaic, so the clean
target keeps its detail and the noise gets the spatial and cross-channel correlation of a real
demosaic. The JPEG is emulated in torch (4:2:0, standard tables scaled by quality).

Every function takes a ``torch.Generator``, so a seed gives the same batch.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

# ---------------------------------------------------------------- camera pipeline pieces


def _rand(gen: torch.Generator, lo: float, hi: float, n: int = 1) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=gen)


def srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(0, 1)
    return torch.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(0, 1)
    return torch.where(x <= 0.0031308, x * 12.92, 1.055 * x.clamp_min(1e-8) ** (1 / 2.4) - 0.055)


def tone(x: torch.Tensor) -> torch.Tensor:
    """The global S-curve Brooks et al. use as a camera's tone map (smoothstep)."""
    x = x.clamp(0, 1)
    return 3 * x ** 2 - 2 * x ** 3


def untone(y: torch.Tensor) -> torch.Tensor:
    y = y.clamp(0, 1)
    return 0.5 - torch.sin(torch.asin((1 - 2 * y).clamp(-1, 1)) / 3)


def random_ccm(gen: torch.Generator) -> torch.Tensor:
    """A camera-to-sRGB colour matrix: rows sum to 1, a strong diagonal and negative crosstalk,
    like the matrices that ship in DNG files."""
    off = -_rand(gen, 0.05, 0.45, 6)
    m = torch.zeros(3, 3)
    m[0, 1], m[0, 2], m[1, 0], m[1, 2], m[2, 0], m[2, 1] = off
    m += torch.diag(1 - m.sum(1))
    return m


def demosaic_bilinear(mosaic: torch.Tensor) -> torch.Tensor:
    """(B,1,H,W) RGGB mosaic (R at even rows and columns) -> (B,3,H,W) by bilinear filling."""
    b, _, h, w = mosaic.shape
    yy = torch.arange(h)[:, None] % 2
    xx = torch.arange(w)[None, :] % 2
    masks = torch.stack([(yy == 0) & (xx == 0), (yy + xx) == 1, (yy == 1) & (xx == 1)])
    masks = masks.to(mosaic.dtype)[None]
    k_rb = torch.tensor([[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])
    k_g = torch.tensor([[0.0, 0.25, 0.0], [0.25, 1.0, 0.25], [0.0, 0.25, 0.0]])
    kernels = torch.stack([k_rb, k_g, k_rb])[:, None].to(mosaic.dtype)
    sparse = F.pad(mosaic * masks, (1, 1, 1, 1), mode="reflect")
    return F.conv2d(sparse, kernels, groups=3)


def mosaic_of(rgb: torch.Tensor) -> torch.Tensor:
    """(B,3,H,W) -> (B,1,H,W) RGGB samples."""
    out = rgb[:, 1:2].clone()
    out[:, :, 0::2, 0::2] = rgb[:, 0:1, 0::2, 0::2]
    out[:, :, 1::2, 1::2] = rgb[:, 2:3, 1::2, 1::2]
    return out


def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """(C,H,W) through a 5x5 Gaussian of ``sigma`` pixels (reflected edges)."""
    k = torch.exp(-torch.arange(-2, 3, dtype=torch.float32) ** 2 / (2 * sigma ** 2))
    k = (k[:, None] * k[None, :]) / k.sum() ** 2
    c = x.shape[0]
    pad = F.pad(x[None], (2, 2, 2, 2), mode="reflect")
    return F.conv2d(pad, k.expand(c, 1, 5, 5).contiguous(), groups=c)[0]


# ---------------------------------------------------------------- JPEG emulation

_LUMA_Q = torch.tensor([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69,
    56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81,
    104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99],
    dtype=torch.float32).view(8, 8)
_CHROMA_Q = torch.full((8, 8), 99.0)
_CHROMA_Q[:4, :4] = torch.tensor([[17, 18, 24, 47], [18, 21, 26, 66], [24, 26, 56, 99],
                                  [47, 66, 99, 99]], dtype=torch.float32)


def _dct_matrix() -> torch.Tensor:
    k = torch.arange(8, dtype=torch.float64)
    m = torch.cos((2 * k[None, :] + 1) * k[:, None] * math.pi / 16) * math.sqrt(2 / 8)
    m[0] /= math.sqrt(2)
    return m.float()


_DCT = _dct_matrix()


def quant_table(base: torch.Tensor, quality: float) -> torch.Tensor:
    """libjpeg's quality scaling of a base table."""
    q = max(1.0, min(100.0, float(quality)))
    scale = 5000 / q if q < 50 else 200 - 2 * q
    return ((base * scale + 50) // 100).clamp(1, 255)


def _blocks_quantize(plane: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """(H,W) plane in 0..255 (sides multiples of 8) through DCT, quantisation and inverse."""
    h, w = plane.shape
    blocks = (plane - 128).view(h // 8, 8, w // 8, 8).permute(0, 2, 1, 3)
    coef = _DCT @ blocks @ _DCT.T
    coef = torch.round(coef / table) * table
    back = _DCT.T @ coef @ _DCT
    return back.permute(0, 2, 1, 3).reshape(h, w) + 128


def jpeg(img: torch.Tensor, quality: float) -> torch.Tensor:
    """(3,H,W) in [0,1] -> the same image saved as a 4:2:0 baseline JPEG and decoded (sides are
    padded to multiples of 16 by edge replication, as encoders do)."""
    _, h, w = img.shape
    ph, pw = (-h) % 16, (-w) % 16
    x = F.pad(img[None] * 255, (0, pw, 0, ph), mode="replicate")[0]
    r, g, b = x
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = -0.168736 * r - 0.331264 * g + 0.5 * b + 128
    cr = 0.5 * r - 0.418688 * g - 0.081312 * b + 128
    y = _blocks_quantize(y, quant_table(_LUMA_Q, quality))
    chroma = []
    for c in (cb, cr):
        small = F.avg_pool2d(c[None, None], 2)[0, 0]
        small = _blocks_quantize(small, quant_table(_CHROMA_Q, quality))
        chroma.append(F.interpolate(small[None, None], scale_factor=2, mode="bilinear",
                                    align_corners=False)[0, 0])
    cb, cr = chroma[0] - 128, chroma[1] - 128
    out = torch.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb])
    return (out[:, :h, :w].round().clamp(0, 255)) / 255


# ---------------------------------------------------------------- degradations


def camera_noise(clean: torch.Tensor, gen: torch.Generator, shot: float | None = None,
                 read: float | None = None, nr_prob: float = 0.5
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """One (3,H,W) sRGB crop -> (noisy sRGB, per-pixel noise std in sRGB (1,H,W), the mean
    over channels).

    Shot noise is drawn log-uniformly up to about ISO 6400 (Brooks et al.'s range, extended
    down by 2x for the light noise of good cameras), and read noise from its log-linear
    relation to shot noise, unless given. A share ``nr_prob`` of the crops get a light blur of
    the noise, as in-camera noise reduction leaves it. The std map propagates the
    raw std through the slope of the forward pipeline (before demosaic, JPEG and clipping).
    """
    if shot is None:
        shot = math.exp(float(_rand(gen, math.log(5e-5), math.log(1.2e-2))))
    if read is None:
        log_read = 2.18 * math.log(shot) + 1.2 + 0.26 * float(torch.randn(1, generator=gen))
        read = math.exp(log_read)
    ccm = random_ccm(gen)
    rgb_gain = 1 / max(0.3, 0.8 + 0.1 * float(torch.randn(1, generator=gen)))
    wb = torch.tensor([float(_rand(gen, 1.9, 2.4)), 1.0, float(_rand(gen, 1.5, 1.9))])
    # unprocess: sRGB -> linear -> camera colours -> raw (white balance and exposure undone)
    lin = srgb_to_linear(untone(clean))
    cam = torch.einsum("ij,jhw->ihw", torch.linalg.inv(ccm), lin)
    raw = (cam / (wb[:, None, None] * rgb_gain)).clamp(0, 1)
    raw_m = mosaic_of(raw[None])
    var = shot * raw_m + read
    noise_m = torch.randn(raw_m.shape, generator=gen) * var.sqrt()
    noise = demosaic_bilinear(noise_m)[0]
    if float(_rand(gen, 0, 1)) < nr_prob:  # in-camera noise reduction: finer grain, lower
        noise = _blur(noise, float(_rand(gen, 0.3, 1.2)))

    def forward(r: torch.Tensor) -> torch.Tensor:
        c = r * wb[:, None, None] * rgb_gain
        return tone(linear_to_srgb(torch.einsum("ij,jhw->ihw", ccm, c)))

    noisy = forward(raw + noise)
    # std through the local slope of the pipeline: a finite difference at +-1 raw std
    std_raw = (shot * raw + read).sqrt()
    slope_std = (forward(raw + std_raw) - forward(raw - std_raw)).abs() / 2
    return noisy.clamp(0, 1), slope_std.mean(0, keepdim=True)


def degrade(clean: torch.Tensor, gen: torch.Generator,
            mix: dict[str, float] | None = None) -> tuple[torch.Tensor, torch.Tensor, str]:
    """A random degradation of one (3,H,W) crop: (input, noise std map (1,H,W) known before
    any JPEG, kind). ``mix``: relative weights of the kinds. A kind ending in ``_jpeg`` went
    through a JPEG after the noise, so its std map is only an upper bound."""
    mix = mix or {"camera": 0.5, "gauss": 0.2, "gauss_jpeg": 0.15, "jpeg": 0.1, "clean": 0.05}
    kinds = list(mix)
    w = torch.tensor([mix[k] for k in kinds])
    kind = kinds[int(torch.multinomial(w / w.sum(), 1, generator=gen))]
    _, h, wd = clean.shape
    if kind == "camera":
        noisy, std = camera_noise(clean, gen)
        if float(_rand(gen, 0, 1)) < 0.8:  # most cameras save JPEG; some users save PNG
            noisy, kind = jpeg(noisy, float(_rand(gen, 60, 100))), "camera_jpeg"
        else:
            noisy = (noisy * 255).round() / 255
        return noisy, std, kind
    if kind in ("gauss", "gauss_jpeg"):
        hi = 55.0 if kind == "gauss" else 30.0
        sigma = float(_rand(gen, 0 if kind == "gauss" else 5, hi)) / 255
        noisy = clean + torch.randn(clean.shape, generator=gen) * sigma
        if kind == "gauss_jpeg":
            noisy = jpeg(noisy.clamp(0, 1), float(_rand(gen, 60, 95)))
        elif float(_rand(gen, 0, 1)) < 0.5:
            noisy = (noisy.clamp(0, 1) * 255).round() / 255
        return noisy, torch.full((1, h, wd), sigma), kind
    if kind == "jpeg":
        return jpeg(clean, float(_rand(gen, 20, 95))), torch.zeros(1, h, wd), kind
    return (clean * 255).round() / 255, torch.zeros(1, h, wd), kind


def degrade_batch(clean: torch.Tensor, gen: torch.Generator, crop: int,
                  mix: dict[str, float] | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[str]]:
    """(B,3,S,S) crops -> (noisy, clean, std map, kinds), each cut to ``crop`` at a random
    offset after degrading, so that the network never sees a fixed JPEG-grid or mosaic phase."""
    noisy, target, std, kinds = [], [], [], []
    s = clean.shape[-1]
    for img in clean:
        n, m, k = degrade(img.float(), gen, mix)
        y, x = (int(v) for v in torch.randint(0, s - crop + 1, (2,), generator=gen))
        noisy.append(n[:, y:y + crop, x:x + crop])
        target.append(img[:, y:y + crop, x:x + crop])
        std.append(m[:, y:y + crop, x:x + crop])
        kinds.append(k)
    return torch.stack(noisy), torch.stack(target), torch.stack(std), kinds
