"""The evaluation's degradation, reproduced in torch: ffmpeg's `scale=iw/s:ih/s:flags=bicubic`.

swscale's bicubic is Keys' cubic with a = -0.6 (B=0, C=0.6), widened by the factor when
downscaling (anti-aliased), pixel centres aligned (src = (dst + 0.5) * s - 0.5), each RGB channel on
its own, taps that fall outside the image folded onto the edge pixel. `verify_against_ffmpeg` checks
this against the real ffmpeg on a sample image.
"""
import io
import subprocess

import numpy as np
import torch
import torch.nn.functional as F


def keys(x: torch.Tensor, a: float = -0.6) -> torch.Tensor:
    t = x.abs()
    near = (a + 2) * t**3 - (a + 3) * t**2 + 1
    far = a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a
    return torch.where(t <= 1, near, torch.where(t < 2, far, torch.zeros_like(t)))


def downscale_taps(scale: int, a: float = -0.6) -> torch.Tensor:
    """Taps over source offsets -2*scale+1 .. 2*scale around the block (all phases are equal)."""
    offsets = torch.arange(-2 * scale + 1, 2 * scale + 1, dtype=torch.float64)
    centre = (scale - 1) / 2.0  # (d + 0.5) * s - 0.5 relative to the block's first pixel d*s
    w = keys((offsets - centre) / scale, a)
    return (w / w.sum()).float()


def bicubic_down(x: torch.Tensor, scale: int) -> torch.Tensor:
    """x: (N, C, H, W) float, H and W multiples of `scale`. Returns (N, C, H/scale, W/scale), unrounded."""
    taps = downscale_taps(scale).to(x.dtype)
    k = taps.numel()
    pad_lo, pad_hi = 2 * scale - 1, 2 * scale
    n, c, h, w = x.shape
    planes = x.reshape(n * c, 1, h, w)
    planes = F.pad(planes, (pad_lo, pad_hi, 0, 0), mode='replicate')
    planes = F.conv2d(planes, taps.view(1, 1, 1, k), stride=(1, scale))
    planes = F.pad(planes, (0, 0, pad_lo, pad_hi), mode='replicate')
    planes = F.conv2d(planes, taps.view(1, 1, k, 1), stride=(scale, 1))
    return planes.reshape(n, c, h // scale, w // scale)


def quantize(x: torch.Tensor) -> torch.Tensor:
    """8-bit storage, as the evaluation's LR files are."""
    return torch.round(x.clamp(0, 1) * 255) / 255


def ffmpeg_bicubic_down(rgb: np.ndarray, scale: int) -> np.ndarray:
    """The real thing: HxWx3 uint8 through ffmpeg's scale filter the way the evaluation LR was made (bgr0)."""
    h, w, _ = rgb.shape
    cmd = ['ffmpeg', '-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', f'{w}x{h}', '-i', '-',
           '-vf', f'format=bgr0,scale=iw/{scale}:ih/{scale}:flags=bicubic', '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-']
    out = subprocess.run(cmd, input=rgb.tobytes(), capture_output=True, check=True).stdout
    return np.frombuffer(out, np.uint8).reshape(h // scale, w // scale, 3)


def verify_against_ffmpeg(rgb: np.ndarray, scale: int) -> dict:
    """Mean and max absolute difference (8-bit levels) between this module and ffmpeg on one image."""
    h, w = (rgb.shape[0] // scale) * scale, (rgb.shape[1] // scale) * scale
    rgb = np.ascontiguousarray(rgb[:h, :w])
    ref = ffmpeg_bicubic_down(rgb, scale).astype(np.int32)
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
    mine = (quantize(bicubic_down(x, scale))[0].permute(1, 2, 0).numpy() * 255).round().astype(np.int32)
    diff = np.abs(mine - ref)
    inner = diff[4:-4, 4:-4]
    return {'scale': scale, 'size': f'{w}x{h}', 'mean_abs': float(diff.mean()), 'max_abs': int(diff.max()),
            'interior_mean_abs': float(inner.mean()), 'interior_max_abs': int(inner.max())}


def jpeg_roundtrip(rgb: np.ndarray, quality: int) -> np.ndarray:
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format='JPEG', quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert('RGB'))


def h264_roundtrip(frames: np.ndarray, crf: int) -> np.ndarray:
    """frames: T x H x W x 3 uint8 (H, W even) through libx264 yuv420p and back, as broadcast footage is."""
    t, h, w, _ = frames.shape
    enc = ['ffmpeg', '-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', f'{w}x{h}', '-r', '25', '-i', '-',
           '-c:v', 'libx264', '-preset', 'veryfast', '-crf', str(crf), '-pix_fmt', 'yuv420p', '-f', 'h264', '-']
    stream = subprocess.run(enc, input=frames.tobytes(), capture_output=True, check=True).stdout
    dec = ['ffmpeg', '-v', 'error', '-f', 'h264', '-i', '-', '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-']
    raw = subprocess.run(dec, input=stream, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(t, h, w, 3)


if __name__ == '__main__':
    import json
    import sys
    from PIL import Image
    img = np.asarray(Image.open(sys.argv[1]).convert('RGB'))
    for s in (2, 4):
        print(json.dumps(verify_against_ffmpeg(img[:480, :640], s)))


def bicubic_up(x: torch.Tensor, scale: int, a: float = -0.6) -> torch.Tensor:
    """The bicubic baseline (ffmpeg's upscale: Keys a=-0.6, half-pixel centres, edge replicate)."""
    n, c, h, w = x.shape
    d = (torch.arange(scale, dtype=torch.float64) + 0.5) / scale - 0.5
    f = torch.floor(d)
    offsets = torch.arange(-2, 3, dtype=torch.float64)
    taps = torch.zeros(scale, 5, dtype=torch.float64)
    for p in range(scale):
        for k, o in enumerate(offsets):
            if f[p] - 1 <= o <= f[p] + 2:
                taps[p, k] = keys(d[p] - o, a)
    taps = taps.float()
    planes = F.pad(x.reshape(n * c, 1, h, w), (2, 2, 2, 2), mode='replicate')
    rows = F.conv2d(planes, taps.view(scale, 1, 5, 1))            # (nc, s, h, w+4): vertical phases
    rows = rows.reshape(n * c * scale, 1, h, w + 4)
    cols = F.conv2d(rows, taps.view(scale, 1, 1, 5))              # (nc*s, s, h, w)
    cols = cols.reshape(n * c, scale, scale, h, w).permute(0, 3, 1, 4, 2)
    return cols.reshape(n, c, h * scale, w * scale)
