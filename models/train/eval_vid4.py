"""Score a model on the public Vid4 sequences (../shared/data): PSNR-Y (BT.601 luma as VSR papers,
Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 on 8-bit values, 4-pixel border crop, mean of the
per-frame PSNR) and flicker (mean absolute difference between consecutive output frames minus the same
for the ground truth, RGB 0..255; and the temporal error, the part of the frame-to-frame change the
ground truth does not have). Evaluation only: nothing here feeds training.

    /usr/bin/python3 models/train/eval_vid4.py --checkpoint runs/x4/best.pt [--scale 4]
    /usr/bin/python3 models/train/eval_vid4.py --scored OUT.mkv --sequence vid4_walk --scale 4

The first runs the torch network with and without its history (zeros fed every frame) and the bicubic
baseline; the second scores a video the stream-sr CLI wrote (the real ONNX path).
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get('STREAM_SR_SHARED_DATA', os.path.join(HERE, '..', '..', '..', 'shared', 'data'))
SCRATCH = os.path.join(HERE, 'work', 'eval')
BORDER = 4


def probe_size(path):
    out = subprocess.run(['ffprobe', '-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height',
                          '-of', 'csv=p=0', path], capture_output=True, text=True, check=True).stdout
    w, h = out.strip().split(',')
    return int(w), int(h)


def decode(path):
    w, h = probe_size(path)
    raw = subprocess.run(['ffmpeg', '-nostdin', '-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], stdin=subprocess.DEVNULL,
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def lr_path(sequence, scale):
    """x4 LR ships with the data; x2 is made the same way (ffmpeg bicubic from the GT) into a scratch folder."""
    if scale == 4:
        return os.path.join(DATA, sequence, 'lr_x4.mkv')
    out = os.path.join(SCRATCH, f'{sequence}_lr_x{scale}.mkv')
    if not os.path.exists(out):
        os.makedirs(SCRATCH, exist_ok=True)
        subprocess.run(['ffmpeg', '-nostdin', '-v', 'error', '-y', '-i', os.path.join(DATA, sequence, 'gt.mkv'), '-vf',
                        f'scale=iw/{scale}:ih/{scale}:flags=bicubic', '-c:v', 'ffv1', '-pix_fmt', 'bgr0', out], check=True)
    return out


def luma(rgb_u8):
    x = rgb_u8.astype(np.float64)
    return 16 + (65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]) / 255


def y_of(frames):
    """Y 16..235 of RGB frames (N,H,W,3), or the frames themselves when they are a luma model's Y codes (N,H,W)."""
    return luma(frames) if frames.ndim == 4 else frames.astype(np.float64)


def psnr_y(out, gt):
    a, b = y_of(out), luma(gt)
    a, b = a[:, BORDER:-BORDER, BORDER:-BORDER], b[:, BORDER:-BORDER, BORDER:-BORDER]
    mse = ((a - b) ** 2).reshape(len(a), -1).mean(1)
    return 10 * np.log10(255.0 ** 2 / mse)


def flicker(frames):
    f = frames.astype(np.int16)
    return float(np.abs(f[1:] - f[:-1]).mean())


def temporal_error(out, gt):
    """Mean |(out_t - out_t-1) - (gt_t - gt_t-1)|, 0..255: change between frames that the truth does
    not have (flicker proper), where the signed flicker figure also rewards blur."""
    o, g = out.astype(np.int16), gt.astype(np.int16)
    return float(np.abs((o[1:] - o[:-1]) - (g[1:] - g[:-1])).mean())


def score(out, gt):
    """PSNR-Y; flicker and temporal error on Y (so RGB and luma models compare), and on RGB for RGB models."""
    p = psnr_y(out, gt)
    out_y, gt_y = np.round(y_of(out)).astype(np.uint8), np.round(luma(gt)).astype(np.uint8)
    result = {'psnr_y': round(float(p.mean()), 3), 'psnr_y_first10': round(float(p[:10].mean()), 3),
              'flicker_y': round(flicker(out_y) - flicker(gt_y), 3), 'temporal_error_y': round(temporal_error(out_y, gt_y), 3),
              'frames': len(out)}
    if out.ndim == 4:
        result['flicker'] = round(flicker(out) - flicker(gt), 3)
        result['temporal_error'] = round(temporal_error(out, gt), 3)
    return result


@torch.no_grad()
def run_torch(model, lr_u8, use_history):
    """RGB frames (N,H,W,3) for an RGB model; for a luma model its Y as 8-bit limited-range codes (N,H,W),
    fed the LR's Y as a yuv420p decode gives it (BT.601 limited-range codes k, as k/255)."""
    s, c = model.scale, model.channels
    outs = []
    prev_frame = prev_out = None
    for frame in lr_u8:
        if c == 3:
            x = torch.from_numpy(frame.copy()).permute(2, 0, 1)[None].float() / 255
        else:
            x = torch.from_numpy(np.round(luma(frame)) / 255)[None, None].float()
        if prev_frame is None or not use_history:
            prev_frame, prev_out = torch.zeros_like(x), torch.zeros(1, c, x.shape[2] * s, x.shape[3] * s)
        y = model(x, prev_frame, prev_out).clamp(0, 1)
        if c == 3:
            outs.append((y[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))
        else:
            outs.append(np.round(255 * y[0, 0].numpy()).astype(np.uint8))
        prev_frame, prev_out = x, y
    return np.stack(outs)


def bicubic(lr_u8, scale):
    from degrade import bicubic_up
    x = torch.from_numpy(lr_u8.copy()).permute(0, 3, 1, 2).float() / 255
    return (bicubic_up(x, scale).clamp(0, 1).permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--checkpoint')
    ap.add_argument('--scored', help='a video written by the stream-sr CLI from the LR of --sequence')
    ap.add_argument('--sequence', action='append', help='vid4_walk and/or vid4_city (default both)')
    ap.add_argument('--scale', type=int, default=4)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--warp-at', choices=['hr-block'], help="score a checkpoint trained with warp_at 'hr' as export.py "
                    '--warp-at exports it (what the shipped graphs compute)')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    sequences = args.sequence or ['vid4_walk', 'vid4_city']
    if not os.path.isdir(DATA):
        raise SystemExit(f'no shared data at {DATA}')
    result = {}
    model = None
    if args.checkpoint:
        from export import load_checkpoint
        model, ck = load_checkpoint(args.checkpoint)
        result['checkpoint'] = {'path': args.checkpoint, 'step': ck['step']}
        if args.warp_at:
            if model.warp_at != 'hr':
                raise SystemExit(f"{args.checkpoint}: --warp-at {args.warp_at} replaces warp_at 'hr', not '{model.warp_at}'")
            model.warp_at = result['checkpoint']['warp_at'] = args.warp_at
    for seq in sequences:
        gt = decode(os.path.join(DATA, seq, 'gt.mkv'))
        lr = decode(lr_path(seq, args.scale))
        entry = {'bicubic': score(bicubic(lr, args.scale), gt)}
        if args.scored:
            entry['scored'] = score(decode(args.scored), gt)
        if model is not None:
            entry['model'] = score(run_torch(model, lr, True), gt)
            entry['model_no_history'] = score(run_torch(model, lr, False), gt)
            entry['gain_db'] = round(entry['model']['psnr_y'] - entry['bicubic']['psnr_y'], 3)
        result[seq] = entry
        print(seq, json.dumps(entry), file=sys.stderr, flush=True)
    print(json.dumps(result, indent=1))


if __name__ == '__main__':
    main()
