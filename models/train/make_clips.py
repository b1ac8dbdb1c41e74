"""Training clips from still photos: a virtual camera moves over each photo with sub-pixel motion
(translation, slight zoom and rotation); every frame is degraded exactly like the evaluation LR
(ffmpeg's bicubic downscale, 8-bit). A second LR variant adds mild noise and JPEG or H.264
compression, as camera and broadcast footage have.

    /usr/bin/python3 models/train/make_clips.py [--work models/train/work] [--seed 1]

Writes one shard per photo, <work>/clips/{train,val}-<sha>.npz (or under --out), holding hr, lr4,
lr4deg, lr2, lr2deg: uint8 N x T x H x W x 3.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from degrade import bicubic_down, h264_roundtrip, jpeg_roundtrip, quantize

HERE = os.path.dirname(os.path.abspath(__file__))
Image.MAX_IMAGE_PIXELS = None

HR = 256        # HR patch side (LR 64 at x4, 128 at x2)
MARGIN = 16     # HR pixels rendered around the patch so that the LR has no border effects
FRAMES = 4


LEVELS = (1.0, 1.5, 2.25, 3.375)  # photo pyramid: a clip samples the nearest level at most 1.5x finer


def load_photo(path, max_side=3000):
    """The photo at a few scales (PIL Lanczos), so that clip rendering never skips photo pixels."""
    im = Image.open(path).convert('RGB')
    if max(im.size) > max_side:  # beyond this a photo's own pixels are softer than its detail budget
        s = max_side / max(im.size)
        im = im.resize((round(im.size[0] * s), round(im.size[1] * s)), Image.LANCZOS)
    pyramid = []
    for level in LEVELS:
        size = (round(im.size[0] / level), round(im.size[1] / level))
        if min(size) < HR + 2 * MARGIN:
            break
        scaled = im if level == 1.0 else im.resize(size, Image.LANCZOS)
        pyramid.append((level, torch.from_numpy(np.asarray(scaled).copy()).permute(2, 0, 1).float().div(255)))
    return pyramid


def camera_path(rng, frames):
    """Per-frame affine (zoom, angle, dx, dy) in output pixels: mostly slow, sometimes fast, sometimes still."""
    kind = rng.random()
    if kind < 0.15:
        speed = 0.0
    elif kind < 0.65:
        speed = rng.uniform(0.1, 2.5)
    elif kind < 0.92:
        speed = rng.uniform(2.5, 8.0)
    else:
        speed = rng.uniform(8.0, 16.0)
    heading = rng.uniform(0, 2 * math.pi)
    vx, vy = speed * math.cos(heading), speed * math.sin(heading)
    zoom_rate = rng.uniform(-0.01, 0.01) if rng.random() < 0.4 else 0.0
    spin = math.radians(rng.uniform(-0.4, 0.4)) if rng.random() < 0.4 else 0.0
    jitter = rng.uniform(0, 0.3)
    path = []
    for t in range(frames):
        path.append(((1 + zoom_rate) ** t, spin * t, vx * t + rng.normal(0, jitter), vy * t + rng.normal(0, jitter)))
    return path


def render_clip(pyramid, rng, frames, supersample=2):
    """HR frames of side HR + 2*MARGIN along a camera path: bilinear samples at twice the HR density
    from the pyramid level just finer than the wanted scale, averaged 2x2."""
    full = pyramid[0][1]
    side = HR + 2 * MARGIN
    max_scale = min(full.shape[1:]) / (side * 1.25)
    lo, hi = min(1.0, max_scale), max(min(1.0, max_scale), min(4.0, max_scale))
    scale = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    level, photo = [p for p in pyramid if p[0] <= max(scale, 1.0)][-1]
    scale = scale / level
    _, ph, pw = photo.shape
    path = camera_path(rng, frames)
    reach = side * scale * 0.75 + max(abs(p[2]) + abs(p[3]) for p in path) * scale + 4
    cx = rng.uniform(reach, pw - reach) if pw > 2 * reach else pw / 2
    cy = rng.uniform(reach, ph - reach) if ph > 2 * reach else ph / 2
    q = supersample
    grid_1d = (torch.arange(side * q, dtype=torch.float32) + 0.5) / q - side / 2
    gy, gx = torch.meshgrid(grid_1d, grid_1d, indexing='ij')
    out = []
    for zoom, angle, dx, dy in path:
        c, s = math.cos(angle), math.sin(angle)
        x = (c * gx - s * gy + dx) * scale / zoom + cx
        y = (s * gx + c * gy + dy) * scale / zoom + cy
        grid = torch.stack(((2 * x + 1) / pw - 1, (2 * y + 1) / ph - 1), -1)[None]
        frame = F.grid_sample(photo[None], grid, mode='bilinear', padding_mode='reflection', align_corners=False)
        out.append(F.avg_pool2d(frame, q)[0].clamp(0, 1))
    return torch.stack(out)  # T x 3 x side x side


def degrade_variants(clips, rng):
    """Mild sensor noise, then JPEG per frame (half the clips) or H.264 (the other half; one encode per
    photo, the clips back to back, so that it costs two ffmpeg runs, not two per clip)."""
    out, video = [], []
    for lr_u8 in clips:
        noisy = lr_u8.astype(np.float32) + rng.normal(0, rng.uniform(0.5, 3.0), lr_u8.shape)
        noisy = np.clip(np.round(noisy), 0, 255).astype(np.uint8)
        if rng.random() < 0.5:
            q = int(rng.integers(55, 96))
            out.append(np.stack([jpeg_roundtrip(f, q) for f in noisy]))
        else:
            out.append(None)
            video.append(noisy)
    if video:
        coded = h264_roundtrip(np.concatenate(video), int(rng.integers(18, 31)))
        parts = iter(np.split(coded, len(video)))
        out = [o if o is not None else next(parts) for o in out]
    return out


def to_u8(x):
    return (quantize(x) * 255).round().byte().permute(0, 2, 3, 1).numpy()


def make_photo_clips(photo, count, rng, frames):
    hr, lr4, lr2 = [], [], []
    for _ in range(count):
        clip = render_clip(photo, rng, frames)
        m4, m2 = MARGIN // 4, MARGIN // 2
        hr.append(to_u8(clip[:, :, MARGIN:-MARGIN, MARGIN:-MARGIN]))
        lr4.append(to_u8(bicubic_down(clip, 4))[:, m4:-m4, m4:-m4])
        lr2.append(to_u8(bicubic_down(clip, 2))[:, m2:-m2, m2:-m2])
    return {'hr': np.stack(hr), 'lr4': np.stack(lr4), 'lr4deg': np.stack(degrade_variants(lr4, rng)),
            'lr2': np.stack(lr2), 'lr2deg': np.stack(degrade_variants(lr2, rng))}


def make_split(photos, per_megapixel, minimum, seed, frames, work, out):
    """One shard per photo (<out>/<split>-<sha256 prefix>.npz), each from its own seed, so that an
    interrupted run resumes where it stopped and training can start on the shards already written."""
    total = 0
    for i, p in enumerate(photos):
        shard = os.path.join(out, f'{p["split"]}-{p["sha256"][:16]}.npz')
        if os.path.exists(shard):
            continue
        rng = np.random.default_rng([seed, int(p['sha256'][:8], 16)])
        photo = load_photo(os.path.join(work, p['local_path']))
        count = max(minimum, round(per_megapixel * photo[0][1].shape[1] * photo[0][1].shape[2] / 1e6))
        arrays = make_photo_clips(photo, count, rng, frames)
        np.savez(shard + '.tmp.npz', **arrays)
        os.replace(shard + '.tmp.npz', shard)
        total += count
        print(f'  {i + 1}/{len(photos)} {p["file"]}: {count} clips', file=sys.stderr, flush=True)
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--work', default=os.path.join(HERE, 'work'))
    ap.add_argument('--manifest', default=os.path.join(HERE, 'data-manifest.json'))
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--per-megapixel', type=float, default=1.0, help='training clips per photo megapixel')
    ap.add_argument('--min-clips', type=int, default=6)
    ap.add_argument('--val-clips', type=int, default=6, help='validation clips per held-out photo')
    ap.add_argument('--limit', type=int, default=0, help='use only the first N photos of each split (smoke runs)')
    ap.add_argument('--out', help='where the clip arrays go (default <work>/clips)')
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get('TORCH_THREADS', '2')))
    photos = json.load(open(args.manifest))['photos']
    out = args.out or os.path.join(args.work, 'clips')
    os.makedirs(out, exist_ok=True)
    for split, per_mp, minimum in (('val', 0, args.val_clips), ('train', args.per_megapixel, args.min_clips)):
        chosen = [p for p in photos if p['split'] == split]
        chosen = chosen[:args.limit] if args.limit else chosen
        # a fixed shuffle: training can start on the first shards and see every kind of scene early
        chosen = [chosen[i] for i in np.random.default_rng(args.seed).permutation(len(chosen))]
        print(f'{split}: {len(chosen)} photos', file=sys.stderr)
        n = make_split(chosen, per_mp, minimum, args.seed, FRAMES, args.work, out)
        print(f'{split}: {n} new clips of {FRAMES} frames', file=sys.stderr)


if __name__ == '__main__':
    main()
