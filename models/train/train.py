"""Train the causal SR network: seeded, resumable, recurrent rollout exactly as the superResolve
operator runs it (zeros as history on the first frame, then the previous LR frame and the previous
output clamped to 0..1), L1 loss plus a temporal term, validation on held-out photo clips.

    /usr/bin/python3 models/train/train.py --config models/train/configs/x4.json --run models/train/runs/x4

Re-running the same command resumes from <run>/last.pt. <run>/metrics.jsonl is the learning curve.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from degrade import bicubic_up
from net import CausalSR, warp

HERE = os.path.dirname(os.path.abspath(__file__))

DEFAULTS = {
    'seed': 1, 'scale': 4, 'model': {'ch': 32, 'body': 4, 'flow_ch': 16, 'hist_ch': 12, 'history': True},
    'batch': 8, 'crop': 48, 'frames': 3, 'steps': 20000, 'lr': 3e-4, 'warmup': 100, 'decay_from': 0.6,
    'temporal_weight': 0.5, 'motion_weight': 0.0, 'motion_smoothness': 0.02, 'motion_levels': 3,
    'motion_pretrain_steps': 0, 'motion_pretrain_lr': 2e-3, 'degraded_share': 0.15, 'threads': 2,
    'eval_every': 250, 'checkpoint_every': 250, 'log_every': 25, 'clips': 'work/clips',
}


def load_config(path):
    cfg = json.loads(json.dumps(DEFAULTS))
    if path:
        user = json.load(open(path))
        cfg.update({k: v for k, v in user.items() if k != 'model'})
        cfg['model'].update(user.get('model', {}))
    cfg['model']['scale'] = cfg['scale']
    return cfg


class Clips:
    """The clip bank in memory (HR uint8 N x T x 256 x 256 x 3, LR clean and degraded at the configured
    scale), gathered from the per-photo shards; `refresh` picks up shards written since."""

    def __init__(self, folder, split, scale):
        self.folder, self.split, self.scale, self.loaded = folder, split, scale, set()
        self.hr = self.lr = self.lr_deg = None
        if not self.refresh():
            raise SystemExit(f'no {split} clips in {folder}: run make_clips.py first')

    def refresh(self):
        names = sorted(f for f in os.listdir(self.folder) if f.startswith(self.split + '-') and f.endswith('.npz')
                       and not f.endswith('.tmp.npz') and f not in self.loaded)
        if not names:
            return False
        parts = [np.load(os.path.join(self.folder, f)) for f in names]
        add = lambda old, key: np.concatenate(([old] if old is not None else []) + [p[key] for p in parts])
        self.hr = add(self.hr, 'hr')
        self.lr = add(self.lr, f'lr{self.scale}')
        self.lr_deg = add(self.lr_deg, f'lr{self.scale}deg')
        self.loaded.update(names)
        return True

    def __len__(self):
        return len(self.hr)


def to_tensor(a):
    return torch.from_numpy(np.array(a)).permute(0, 1, 4, 2, 3).float().div_(255)  # N T C H W


def sample_batch(clips, cfg, rng):
    s, crop, t = cfg['scale'], cfg['crop'], cfg['frames']
    lr_side = clips.lr.shape[2]
    idx = rng.integers(0, len(clips), cfg['batch'])
    lrs, hrs = [], []
    for i in idx:
        start = rng.integers(0, clips.hr.shape[1] - t + 1)
        y, x = rng.integers(0, lr_side - crop + 1, 2)
        source = clips.lr_deg if rng.random() < cfg['degraded_share'] else clips.lr
        lr = source[i, start:start + t, y:y + crop, x:x + crop]
        hr = clips.hr[i, start:start + t, y * s:(y + crop) * s, x * s:(x + crop) * s]
        if rng.random() < 0.5:  # time reversed: a camera moving the other way
            lr, hr = lr[::-1], hr[::-1]
        k = rng.integers(0, 8)  # the 8 flips/rotations of the square, the same for every frame
        if k & 1:
            lr, hr = lr[:, :, ::-1], hr[:, :, ::-1]
        if k & 2:
            lr, hr = lr[:, ::-1], hr[:, ::-1]
        if k & 4:
            lr, hr = lr.transpose(0, 2, 1, 3), hr.transpose(0, 2, 1, 3)
        lrs.append(np.ascontiguousarray(lr))
        hrs.append(np.ascontiguousarray(hr))
    return to_tensor(np.stack(lrs)), to_tensor(np.stack(hrs))


LUMA = (0.299, 0.587, 0.114)  # BT.601, as the PSNR-Y of the evaluation


def luma_clip(x, quantise):
    """(N,T,3,H,W) RGB 0..1 -> (N,T,1,H,W) Y as a luma model sees it: 8-bit limited-range codes over 255
    ((16 + 219 Y) / 255, the levels of a yuv420p decode, as an RGB model sees k/255); `quantise` rounds
    to whole codes, as the LR arrives from a decoder."""
    y = (16 + 219 * sum(c * x[:, :, k:k + 1] for k, c in enumerate(LUMA))) / 255
    return torch.round(y * 255) / 255 if quantise else y


def for_model(model, lr, hr):
    """The training pair in the model's colour: RGB as it is, or luma (the LR as a decoder gives it)."""
    if model.channels == 3:
        return lr, hr
    return luma_clip(lr, True), luma_clip(hr, False)


def rollout(model, lr, use_history=True, flows=None):
    """Outputs for every frame, fed as the operator feeds them (history zeros on frame 0, or always);
    `flows` collects (previous LR, current LR, flow) of the frames that had a real history."""
    n, t, c, h, w = lr.shape
    s = model.scale
    prev_frame = torch.zeros(n, c, h, w)
    prev_out = torch.zeros(n, c, h * s, w * s)
    outs = []
    for i in range(t):
        out = model(lr[:, i], prev_frame, prev_out)
        outs.append(out)
        if flows is not None and use_history and i > 0 and model.history:
            flows.append((prev_frame, lr[:, i], model.last_flow))
        if use_history:
            prev_frame, prev_out = lr[:, i], out.clamp(0, 1)
    return torch.stack(outs, 1)


def loss_fn(out, hr, temporal_weight):
    content = (out - hr).abs().mean()
    if out.shape[1] < 2:
        return content, content, torch.zeros(())
    temporal = ((out[:, 1:] - out[:, :-1]) - (hr[:, 1:] - hr[:, :-1])).abs().mean()
    return content + temporal_weight * temporal, content, temporal


def motion_loss(flows, smoothness, levels=3):
    """The motion estimator's own lesson: the previous LR frame warped by its flow should look like the
    current one (L1, also at 1/2 and 1/4 resolution, whose wider slopes pull a flow that is pixels off
    towards the truth where a bilinear warp's own gradient only sees a pixel), with a little smoothness
    where texture does not say which way things moved. The SR loss alone never taught it (its flow
    stayed a constant), so the history it warped was misaligned."""
    photometric = multiscale = smooth = 0.0
    for prev, cur, flow in flows:
        warped = warp(prev, flow)
        photometric = photometric + (warped - cur).abs().mean()
        for level in range(1, levels):
            k = 2 ** level
            multiscale = multiscale + (F.avg_pool2d(warped, k) - F.avg_pool2d(cur, k)).abs().mean()
        smooth = smooth + (flow[..., 1:, :] - flow[..., :-1, :]).abs().mean() + (flow[..., 1:] - flow[..., :-1]).abs().mean()
    n = len(flows)
    return (photometric + multiscale + smoothness * smooth) / n, photometric / n


def pretrain_motion(model, train, cfg, rng):
    """Teach the motion estimator alone on pairs of training frames before the network starts to rely
    on its warp (a fresh run only): a few thousand cheap steps at half LR resolution."""
    opt = torch.optim.Adam(model.motion.parameters(), lr=cfg['motion_pretrain_lr'])
    pairs = dict(cfg, frames=2, batch=16)
    running, started = 0.0, time.time()
    for step in range(1, cfg['motion_pretrain_steps'] + 1):
        lr, _ = for_model(model, *sample_batch(train, pairs, rng))
        flow = model.motion(lr[:, 1] - 0.5, lr[:, 0] - 0.5)
        loss, photometric = motion_loss([(lr[:, 0], lr[:, 1], flow)], cfg['motion_smoothness'], cfg['motion_levels'])
        opt.zero_grad()
        loss.backward()
        opt.step()
        running += photometric.item()
        if step % 250 == 0:
            print(f'motion pretraining {step}: warp error {running / 250 * 255:.3f} levels '
                  f'({time.time() - started:.0f} s)', file=sys.stderr, flush=True)
            running = 0.0


def luma(x):
    """BT.601 Y in 0..255 from RGB 0..1, as VSR papers compute PSNR-Y."""
    r, g, b = x[..., 0, :, :], x[..., 1, :, :], x[..., 2, :, :]
    return 16 + 65.481 * r + 128.553 * g + 24.966 * b


def psnr_y(a, b, border):
    """`a` the output (RGB, or a luma model's Y codes over 255), `b` the RGB truth."""
    ya = luma(torch.round(a.clamp(0, 1) * 255) / 255) if a.shape[-3] == 3 else torch.round(255 * a.clamp(0, 1))[..., 0, :, :]
    yb = luma(b)
    if border:
        ya, yb = ya[..., border:-border, border:-border], yb[..., border:-border, border:-border]
    mse = ((ya - yb) ** 2).flatten(-2).mean(-1)
    return (10 * torch.log10(255.0 ** 2 / mse)).mean().item()


def flicker(x):
    """Mean absolute difference between consecutive frames, 0..255."""
    x = torch.round(x.clamp(0, 1) * 255)
    return (x[:, 1:] - x[:, :-1]).abs().mean().item()


@torch.no_grad()
def validate(model, clips, scale):
    model.eval()
    lr, hr = to_tensor(clips.lr[:]), to_tensor(clips.hr[:])  # PSNR-Y against the RGB truth's luma
    lr = lr if model.channels == 3 else luma_clip(lr, True)
    side = 64  # LR pixels: the centre of each clip, so that x2 validation costs what x4's does
    if lr.shape[-1] > side:
        o = (lr.shape[-1] - side) // 2
        lr = lr[..., o:o + side, o:o + side]
        hr = hr[..., o * scale:(o + side) * scale, o * scale:(o + side) * scale]
    border = scale
    res = {'psnr_y': 0.0, 'psnr_y_no_history': 0.0, 'psnr_y_bicubic': 0.0, 'warp_error': 0.0, 'still_error': 0.0,
           'flicker': 0.0, 'flicker_no_history': 0.0, 'flicker_bicubic': 0.0}
    chunks = list(range(0, len(lr), 16))
    for i in chunks:
        l, h = lr[i:i + 16], hr[i:i + 16]
        n, t = l.shape[:2]
        flows = []
        out = rollout(model, l, flows=flows).clamp(0, 1)
        if flows:  # LR 0..255: previous frame warped by the flow vs the current one, and not warped
            res['warp_error'] += 255 * sum((warp(p, f) - c).abs().mean().item() for p, c, f in flows) / len(flows)
            res['still_error'] += 255 * sum((p - c).abs().mean().item() for p, c, _ in flows) / len(flows)
        lone = rollout(model, l, use_history=False).clamp(0, 1)
        bic = bicubic_up(l.flatten(0, 1), scale).reshape(n, t, l.shape[2], h.shape[3], h.shape[4]).clamp(0, 1)
        res['psnr_y'] += psnr_y(out, h, border)
        res['psnr_y_no_history'] += psnr_y(lone, h, border)
        res['psnr_y_bicubic'] += psnr_y(bic, h, border)
        h = h if model.channels == 3 else luma_clip(h, False)  # flicker in the model's colour
        truth = flicker(h)
        res['flicker'] += flicker(out) - truth
        res['flicker_no_history'] += flicker(lone) - truth
        res['flicker_bicubic'] += flicker(bic) - truth
    model.train()
    out = {k: round(v / len(chunks), 4) for k, v in res.items()}
    out['gain_db'] = round(out['psnr_y'] - out['psnr_y_bicubic'], 4)
    return out


def learning_rate(cfg, step):
    if step < cfg['warmup']:
        return cfg['lr'] * (step + 1) / cfg['warmup']
    start = int(cfg['decay_from'] * cfg['steps'])
    if step < start:
        return cfg['lr']
    progress = (step - start) / max(1, cfg['steps'] - start)
    return cfg['lr'] * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def save(path, model, opt, step, cfg, rng, best):
    tmp = path + '.tmp'
    torch.save({'model': model.state_dict(), 'optimizer': opt.state_dict(), 'step': step, 'config': cfg,
                'rng': rng.bit_generator.state, 'torch_rng': torch.get_rng_state(), 'best': best}, tmp)
    os.replace(tmp, path)


def init_from(model, spec):
    """Load the tensors of a checkpoint that fit this model (same name and shape), all or those under a prefix."""
    path, _, prefix = spec.partition(':')
    init = torch.load(path, map_location='cpu')['model']
    own = model.state_dict()
    shared = {k: v for k, v in init.items() if k in own and own[k].shape == v.shape and k.startswith(prefix)
              and not k.startswith('skip.')}  # the fixed bicubic skip is the model's own
    model.load_state_dict(shared, strict=False)
    print(f'initialised {len(shared)}/{len(own)} tensors from {spec}', file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--config')
    ap.add_argument('--run', required=True)
    ap.add_argument('--steps', type=int, help='override the config (smoke runs)')
    ap.add_argument('--init', action='append', help='start from these weights, PATH or PATH:PREFIX (only the tensors '
                    'whose names start with PREFIX, e.g. runs/x4/best.pt:motion.); later ones override earlier ones')
    args = ap.parse_args()
    cfg = load_config(args.config)
    if args.steps:
        cfg['steps'] = args.steps
    torch.set_num_threads(cfg['threads'])
    os.makedirs(args.run, exist_ok=True)
    clips_dir = cfg['clips'] if os.path.isabs(cfg['clips']) else os.path.join(HERE, cfg['clips'])
    train, val = Clips(clips_dir, 'train', cfg['scale']), Clips(clips_dir, 'val', cfg['scale'])
    torch.manual_seed(cfg['seed'])
    rng = np.random.default_rng(cfg['seed'])
    random.seed(cfg['seed'])
    model = CausalSR(**cfg['model'])
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=cfg['lr'], betas=(0.9, 0.99))
    step, best = 0, -1.0
    last = os.path.join(args.run, 'last.pt')
    if os.path.exists(last):
        ck = torch.load(last, map_location='cpu')
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['optimizer'])
        step, best = ck['step'], ck['best']
        rng.bit_generator.state = ck['rng']
        torch.set_rng_state(ck['torch_rng'])
        print(f'resumed at step {step}', file=sys.stderr)
    else:
        for spec in args.init or []:
            init_from(model, spec)
    if step == 0 and cfg['motion_pretrain_steps'] and model.history:
        pretrain_motion(model, train, cfg, rng)
    json.dump(cfg, open(os.path.join(args.run, 'config.json'), 'w'), indent=2)
    log = open(os.path.join(args.run, 'metrics.jsonl'), 'a')
    started, seen = time.time(), 0
    running = [0.0, 0.0, 0.0, 0.0]
    while step < cfg['steps']:
        for g in opt.param_groups:
            g['lr'] = learning_rate(cfg, step)
        lr, hr = for_model(model, *sample_batch(train, cfg, rng))
        flows = []
        out = rollout(model, lr, flows=flows)
        loss, content, temporal = loss_fn(out, hr, cfg['temporal_weight'])
        if cfg['motion_weight'] and flows:
            motion, photometric = motion_loss(flows, cfg['motion_smoothness'], cfg['motion_levels'])
            loss = loss + cfg['motion_weight'] * motion
            running[3] += photometric.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        seen += 1
        running[:3] = [a + b.item() for a, b in zip(running, (loss, content, temporal))]
        if step % cfg['log_every'] == 0:
            rate = seen / (time.time() - started)
            print(f'step {step} loss {running[0] / cfg["log_every"]:.5f} l1 {running[1] / cfg["log_every"]:.5f} '
                  f'temporal {running[2] / cfg["log_every"]:.5f} motion {running[3] / cfg["log_every"]:.5f} lr {learning_rate(cfg, step):.2e} {rate:.2f} steps/s',
                  file=sys.stderr, flush=True)
            running = [0.0, 0.0, 0.0, 0.0]
        if step % 50 == 0 and train.refresh():
            print(f'training clips: {len(train)} from {len(train.loaded)} photos', file=sys.stderr, flush=True)
        if step % cfg['eval_every'] == 0 or step == cfg['steps']:
            metrics = validate(model, val, cfg['scale'])
            record = {'step': step, 'time': round(time.time()), 'lr': learning_rate(cfg, step), **metrics}
            log.write(json.dumps(record) + '\n')
            log.flush()
            print('val', json.dumps(record), file=sys.stderr, flush=True)
            if metrics['psnr_y'] > best:
                best = metrics['psnr_y']
                save(os.path.join(args.run, 'best.pt'), model, opt, step, cfg, rng, best)
        if step % cfg['checkpoint_every'] == 0 or step == cfg['steps']:
            save(last, model, opt, step, cfg, rng, best)


if __name__ == '__main__':
    main()
