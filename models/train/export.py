"""Export trained checkpoints to ONNX (opset 17, dynamic height and width) and write the model folder
(`models/<id>/`: one ONNX file per scale, model.json in the registry's `stream-sr-model/1` format).

    /usr/bin/python3 models/train/export.py --x4 runs/x4/best.pt --x2 runs/x2/best.pt --out models/causal-sr
"""
import argparse
import json
import os
import shutil
import sys

import torch

from net import CausalSR, macs_per_lr_pixel

INPUTS = ('frame', 'previousFrame', 'previousOutput')


def load_checkpoint(path):
    ck = torch.load(path, map_location='cpu')
    cfg = ck['config']['model']
    model = CausalSR(**cfg)
    model.load_state_dict(ck['model'])
    model.eval()
    return model, ck


def export_onnx(model, path):
    s = model.scale
    c = model.channels
    args = (torch.rand(1, c, 36, 44), torch.rand(1, c, 36, 44), torch.rand(1, c, 36 * s, 44 * s))
    dyn = {'frame': {2: 'height', 3: 'width'}, 'previousFrame': {2: 'height', 3: 'width'},
           'previousOutput': {2: 'out_height', 3: 'out_width'}, 'output': {2: 'out_height', 3: 'out_width'}}
    torch.onnx.export(model, args, path, opset_version=17, input_names=list(INPUTS), output_names=['output'],
                      dynamic_axes=dyn, do_constant_folding=True)
    check_graph(model, path)


def check_graph(model, path):
    """The graph must load and be well formed; numeric parity with onnxruntime is tested from Node."""
    import onnx
    onnx.checker.check_model(onnx.load(path))


def manifest(model_id, variants, checkpoints, license_text, description, color, int8=False, int8_auto_on=()):
    return {
        'format': 'stream-sr-model/1',
        'id': model_id,
        'kind': 'frame-graph',
        'description': description,
        # where a scale has several precisions, the first listed is the default
        # (an int8 graph of a scale in int8_auto_on is auto's pick on CPUs with 8-bit dot products)
        'variants': [{'scale': s, 'file': f, **({'precision': p} if p != 'fp32' or int8 else {}),
                      **({'autoOn': 'int8-dot-product'} if p == 'int8' and s in int8_auto_on else {})} for s, f, p in variants],
        'inputs': {'frame': 'frame', 'previousFrame': 'previousFrame', 'previousOutput': 'previousOutput'},
        'output': 'output',
        'layout': 'NCHW',
        'range': [0, 1],
        'history': True,
        **({'color': 'luma'} if color == 'luma' else {}),
        'minInputSide': 8,
        'license': license_text,
        'origin': 'trained by stream-sr with models/train (data manifest, training config and metrics beside this file); '
                  + '; '.join(f'x{s}: step {ck["step"]}' for s, ck in checkpoints),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--x4', required=True)
    ap.add_argument('--x2')
    ap.add_argument('--out', required=True)
    ap.add_argument('--id', default=None)
    ap.add_argument('--data-manifest', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data-manifest.json'),
                    help='the photos the model was trained on, copied beside it (its licence names this file)')
    ap.add_argument('--int8', action='store_true', help='also write int8 (QDQ) graphs, calibrated on training clips, '
                    'listed after the float ones (--precision int8; the default only with --int8-auto-on)')
    ap.add_argument('--int8-auto-on', type=int, nargs='*', default=[], metavar='SCALE',
                    help='scales whose int8 graph --precision auto picks on CPUs with 8-bit dot products (VNNI, '
                    'Arm dotprod): only where it was measured faster than fp32 at <= 0.05 dB PSNR-Y loss (x4 round 3)')
    ap.add_argument('--int8-float-head', type=int, nargs='*', default=[], metavar='SCALE',
                    help="scales whose int8 graph keeps the head convolution in float (quantize.py's FLOAT_HEAD; "
                    'the x2 of round 3b: -0.015 dB on Vid4 walk instead of -0.056)')
    ap.add_argument('--clips', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'work', 'clips'),
                    help='the training clips the int8 activation ranges are calibrated on')
    ap.add_argument('--calibration-clips', type=int, default=256)
    ap.add_argument('--warp-at', choices=['hr-block'], help="export networks trained with warp_at 'hr' with the "
                    "history's warp as one whole-pixel shift per LR pixel (net.py's warp_hr_block): the same "
                    'weights, a Gather instead of an HR GridSample (round 3: x4 27.679 / 25.836 on Vid4 walk / city '
                    'against 27.676 / 25.835 in torch, and a third less time per frame in ONNX Runtime)')
    args = ap.parse_args()
    # before anything is written: an int8 export needs the training clips to calibrate on
    if args.int8 and not os.path.isdir(args.clips):
        raise SystemExit(f'--int8: no training clips to calibrate on in {args.clips} (make train-data makes them, '
                         'or give --clips DIR)')
    os.makedirs(args.out, exist_ok=True)
    model_id = args.id or os.path.basename(os.path.normpath(args.out))
    variants, cks, info, colors = [], [], {}, set()
    for scale, path in ((2, args.x2), (4, args.x4)):
        if not path:
            continue
        model, ck = load_checkpoint(path)
        assert model.scale == scale, f'{path} is x{model.scale}, not x{scale}'
        if args.warp_at:
            if model.warp_at != 'hr':
                raise SystemExit(f"{path}: --warp-at {args.warp_at} replaces warp_at 'hr', not '{model.warp_at}'")
            model.warp_at = args.warp_at
        name = f'{model_id}-x{scale}.onnx'
        export_onnx(model, os.path.join(args.out, name))
        variants.append((scale, name, 'fp32'))
        if args.int8:
            from quantize import quantize_checkpoint
            int8_name = f'{model_id}-x{scale}-int8.onnx'
            quantize_checkpoint(model, ck['step'], os.path.join(args.out, name), os.path.join(args.out, int8_name),
                                args.clips, args.calibration_clips, float_head=scale in args.int8_float_head)
            variants.append((scale, int8_name, 'int8'))
        colors.add('luma' if model.channels == 1 else 'rgb')
        cks.append((scale, ck))
        info[f'x{scale}'] = {'parameters': sum(p.numel() for p in model.parameters()),
                             'gmac_per_320x180': round(macs_per_lr_pixel(model) * 320 * 180 / 1e9, 3),
                             'step': ck['step'], 'config': ck['config'],
                             **({'exported_warp_at': args.warp_at} if args.warp_at else {})}
        print(f'x{scale}: {os.path.join(args.out, name)} ({os.path.getsize(os.path.join(args.out, name))} bytes)', file=sys.stderr)
    if len(colors) != 1:
        raise SystemExit('the x4 and x2 checkpoints must both be luma or both RGB models')
    color = colors.pop()
    desc = ('Causal x4/x2 video SR trained here on Debian photos: current frame, previous frame and the '
            'previous output warped by an in-graph motion estimate'
            + ('; luma only (Y as limited-range codes), the chroma scaled by swscale' if color == 'luma' else ''))
    lic = ('GPL-3.0-or-later (weights trained by stream-sr on freely licensed photographs listed in '
           'data-manifest.json)')
    with open(os.path.join(args.out, 'model.json'), 'w') as f:
        json.dump(manifest(model_id, variants, cks, lic, desc, color, args.int8, args.int8_auto_on), f, indent=2)
        f.write('\n')
    with open(os.path.join(args.out, 'training-config.json'), 'w') as f:
        json.dump(info, f, indent=2)
        f.write('\n')
    shutil.copyfile(args.data_manifest, os.path.join(args.out, 'data-manifest.json'))


if __name__ == '__main__':
    main()
