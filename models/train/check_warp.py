"""Does the history path align? A check on synthetic shifted frames with a known motion: held-out photo
frames moved by whole HR pixels (quarter LR pixels at x4), degraded like the evaluation LR.

    /usr/bin/python3 models/train/check_warp.py --checkpoint runs/x4/best.pt

For each shift it prints the motion estimator's mean flow against the true one, the error of the
previous LR frame against the current one unwarped and warped by that flow, the same at HR for the
previous ground truth (warped the way the network warps its previous output), and the network's
PSNR-Y on the current frame when its history is the true previous frame against zeros as history.
"""
import argparse
import glob
import json
import os
import sys

import numpy as np
import torch

from degrade import bicubic_down, quantize
from export import load_checkpoint
from net import warp, warp_hr
from train import psnr_y

HERE = os.path.dirname(os.path.abspath(__file__))


def shifted_pair(hr, shift_x, shift_y, margin=16):
    """(previous, current) HR crops of the same frames, the content of the current moved right by shift_x
    and down by shift_y HR pixels."""
    side = hr.shape[-1] - 2 * margin
    prev = hr[..., margin:margin + side, margin:margin + side]
    cur = hr[..., margin - shift_y:margin - shift_y + side, margin - shift_x:margin - shift_x + side]
    return prev, cur


@torch.no_grad()
def check(model, hr, shift_x, shift_y):
    s = model.scale
    prev, cur = shifted_pair(hr, shift_x, shift_y)
    lp, lc = quantize(bicubic_down(prev, s)), quantize(bicubic_down(cur, s))
    flow = model.motion(lc - 0.5, lp - 0.5)
    inner = (slice(None), slice(None), slice(3, -3), slice(3, -3))
    hr_warped = warp_hr(prev, flow, s)
    with_history = model(lc, lp, prev).clamp(0, 1)
    without = model(lc, torch.zeros_like(lp), torch.zeros_like(prev)).clamp(0, 1)
    levels = lambda a, b, sl=inner: round(255 * (a - b)[sl].abs().mean().item(), 3)
    hr_inner = (slice(None), slice(None), slice(3 * s, -3 * s), slice(3 * s, -3 * s))
    return {'true_flow_lr_px': [-shift_x / s, -shift_y / s],
            'mean_flow_lr_px': [round(flow[:, 0, 2:-2, 2:-2].mean().item(), 3), round(flow[:, 1, 2:-2, 2:-2].mean().item(), 3)],
            'lr_error_unwarped': levels(lp, lc), 'lr_error_warped': levels(warp(lp, flow), lc),
            'hr_error_unwarped': levels(prev, cur, hr_inner), 'hr_error_warped': levels(hr_warped, cur, hr_inner),
            'psnr_y_true_history': round(psnr_y(with_history, cur, s), 3), 'psnr_y_zero_history': round(psnr_y(without, cur, s), 3)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--checkpoint', required=True)
    ap.add_argument('--clips', default=os.path.join(HERE, 'work', 'clips'))
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, ck = load_checkpoint(args.checkpoint)
    shards = sorted(glob.glob(os.path.join(args.clips, 'val-*.npz')))
    if not shards:
        raise SystemExit(f'no validation clips in {args.clips}: run make_clips.py first')
    hr = np.concatenate([np.load(p)['hr'][:, 0] for p in shards[:4]])
    hr = torch.from_numpy(hr).permute(0, 3, 1, 2).float() / 255
    print(json.dumps({'checkpoint': args.checkpoint, 'step': ck['step'], 'warp_at': getattr(model, 'warp_at', 'lr')}))
    for shift in ((0, 0), (1, 0), (2, 1), (4, 2), (6, 3), (8, 4), (-5, 7)):
        print(json.dumps({'shift_hr_px': shift, **check(model, hr, *shift)}), flush=True)


if __name__ == '__main__':
    sys.exit(main())
