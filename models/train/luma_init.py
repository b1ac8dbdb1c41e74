"""A luma network's starting weights from a trained RGB one (round 3 starts from round 2's x4).

The luma network computes exactly what the RGB one computes on a grey picture (R = G = B = Y), given
as the luma of its output: the input convolutions' weights are summed over R, G and B (a grey input
puts the same value on each), the output convolution's channels are mixed by the luma coefficients
per output phase. A luma model reads and writes Y as 8-bit limited-range codes over 255, t = (16 +
219 Y) / 255, so the input weights are scaled by 255/219 with the offset moved into the biases, and
the residual by 219/255 (the bicubic skip works on t directly). Training then teaches it what grey
input did not.

    /usr/bin/python3 models/train/luma_init.py --onnx models/causal-sr/causal-sr-x4.onnx \
        --config models/train/configs/x4-luma.json --out models/train/runs/luma-init-x4.pt
"""
import argparse
import json

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from net import CausalSR
from train import load_config

# BT.601 luma, the Y that the PSNR-Y of the evaluation (and of VSR papers) is computed from
LUMA = (0.299, 0.587, 0.114)


def rgb_weights_from_onnx(path):
    """The tensors an exported CausalSR keeps under their PyTorch names (export keeps initialiser names)."""
    return {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in onnx.load(path).graph.initializer}


GAIN = 255 / 219  # Y = GAIN * t - 16 / 219: full-range luma from a code over 255
SHIFT = -16 / 219


def input_weights(w, bias, shift):
    """A convolution over RGB inputs x (grey: x = Y) as one over codes t: Y = GAIN t + shift, so w·Y + b =
    (GAIN w)·t + (b + shift Σw). `shift` is the offset of what the RGB network subtracted from Y (its
    frame inputs are centred, Y - 0.5; its previous output is not)."""
    return GAIN * w, bias + shift * w.sum(dim=tuple(range(1, w.dim())))


def to_luma(rgb, luma_model):
    s2 = luma_model.scale ** 2
    out = {}
    # the frames enter centred (frame - 0.5) in both networks: t - 0.5 → Y - 0.5 = GAIN (t - 0.5) + centre
    centre = GAIN * 0.5 + SHIFT - 0.5
    for name, target in luma_model.state_dict().items():
        w = rgb.get(name)
        if w is None:
            raise SystemExit(f'the RGB weights have no {name}')
        if name in ('motion.c1.bias', 'fold.bias', 'head.bias'):
            continue  # set with their weights
        elif name == 'motion.c1.weight':  # (ch, 6: cur RGB then prev RGB) -> (ch, 2)
            grey = torch.stack((w[:, 0:3].sum(1), w[:, 3:6].sum(1)), 1)
            out[name], out['motion.c1.bias'] = input_weights(grey, rgb['motion.c1.bias'], centre)
        elif name == 'fold.weight':  # (hist, 3, s, s) -> (hist, 1, s, s), the previous output uncentred
            out[name], out['fold.bias'] = input_weights(w.sum(1, keepdim=True), rgb['fold.bias'], SHIFT)
        elif name == 'head.weight':  # (ch, 3 + hist) -> (ch, 1 + hist): only the frame's channel changes
            frame, bias = input_weights(w[:, 0:3].sum(1, keepdim=True), rgb['head.bias'], centre)
            out[name], out['head.bias'] = torch.cat((frame, w[:, 3:]), 1), bias
        elif name in ('tail.weight', 'tail.bias'):  # 3*s2 channels, colour-major -> s2 by luma, in codes
            shape = (3, s2) + tuple(w.shape[1:])
            out[name] = sum(c * w.reshape(shape)[k] for k, c in enumerate(LUMA)) / GAIN
        elif w.shape == target.shape:
            out[name] = w
        elif name.startswith('skip.'):
            out[name] = target  # the fixed bicubic, the luma model's own
        else:
            raise SystemExit(f'no rule to turn {name} {tuple(w.shape)} into {tuple(target.shape)}')
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--onnx', required=True, help='an exported RGB causal-sr graph')
    ap.add_argument('--config', required=True, help='the luma training config (its model shape)')
    ap.add_argument('--out', required=True)
    args = ap.parse_args()
    cfg = load_config(args.config)
    luma_model = CausalSR(**cfg['model'])
    assert luma_model.channels == 1, 'the config is not a luma model (model.channels: 1)'
    state = to_luma(rgb_weights_from_onnx(args.onnx), luma_model)
    missing = set(luma_model.state_dict()) - set(state)
    assert not missing, missing
    luma_model.load_state_dict(state)
    torch.save({'model': luma_model.state_dict(), 'step': 0, 'config': cfg}, args.out)
    print(f'{args.out}: {len(state)} tensors from {args.onnx}')


if __name__ == '__main__':
    main()
