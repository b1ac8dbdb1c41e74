"""int8 version of an exported causal-sr graph: QuantizeLinear/DequantizeLinear (QDQ) pairs around the
network's full-resolution convolutions (head, body, tail), activation ranges calibrated on training
clips run as the operator runs them (history included), weights per output channel.

    /usr/bin/python3 models/train/quantize.py --checkpoint runs/x4luma/best.pt \
        --graph models/causal-sr/causal-sr-x4.onnx --out models/causal-sr/causal-sr-x4-int8.onnx

What ONNX Runtime makes of it on a CPU: each DQ → Conv → Q group becomes one QLinearConv (u8 activations,
s8 weights, int32 accumulation; on AVX2 without VNNI that is vpmaddubsw/vpmaddwd, about twice the
multiply-adds per instruction of fp32 FMA), each DQ → LeakyRelu → Q a QLinearLeakyRelu, so the body
runs in 8 bits from the head's input to the tail's output. The motion estimator (a quarter of the
pixels), the fold, the warp and the fixed bicubic skip stay in float: they are cheap, and the warp and
the skip are where 8 bits would cost quality for nothing.

Activations: asymmetric uint8 per tensor over the calibrated [min, max] (always including 0, so
zero padding is exact); weights: symmetric int8 per output channel (zero point 0, as QLinearConv's
fast path wants). The float graph beside it is the reference the tests compare it with.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from export import load_checkpoint  # noqa: E402
from train import Clips, for_model, load_config, rollout, to_tensor  # noqa: E402

QUANTIZED = ('head', 'body.', 'tail')  # module name prefixes of the convolutions run in int8
# The head reads the LR frame concatenated with the folded history, whose wider range ([-1.4, 1.9] on
# the x2) gives one activation scale too coarse for the frame: about 70 steps over luma's range
# instead of 219. Kept in float, the x2's int8 loses 0.015 dB on Vid4 walk instead of 0.056.
FLOAT_HEAD = ('body.', 'tail')


def quantized_modules(model, prefixes=QUANTIZED):
    return {name: m for name, m in model.named_modules() if isinstance(m, torch.nn.Conv2d) and name.startswith(tuple(prefixes))}


@torch.no_grad()
def calibrate(model, clips, count, seed, prefixes=QUANTIZED):
    """[min, max] of each quantized convolution's input and output over `count` training clips, each
    rolled out over its frames with the history the operator feeds."""
    ranges = {}

    def track(key, x):
        lo, hi = float(x.min()), float(x.max())
        old = ranges.get(key)
        ranges[key] = (min(lo, old[0]), max(hi, old[1])) if old else (lo, hi)

    def hook(name):
        def record(module, inputs, output):  # returns None: a forward hook's result would replace the output
            track(name + ':in', inputs[0])
            track(name + ':out', output)
        return record

    hooks = [m.register_forward_hook(hook(name)) for name, m in quantized_modules(model, prefixes).items()]
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(clips))[:count]
    for start in range(0, len(idx), 16):
        part = np.sort(idx[start:start + 16])
        hr = to_tensor(clips.hr[part])
        # clean and degraded (noise, JPEG/H.264) LR: cameras and feeds deliver the second kind
        for lr in (to_tensor(clips.lr[part]), to_tensor(clips.lr_deg[part])):
            lr, _ = for_model(model, lr, hr)
            rollout(model, lr)
    for h in hooks:
        h.remove()
    return ranges


def activation_qparams(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)  # zero exactly representable: padding and LeakyReLU's kink
    scale = (hi - lo) / 255.0 or 1.0
    zero = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zero)


def quantize_graph(graph_path, model, ranges, out_path, prefixes=QUANTIZED):
    m = onnx.load(graph_path)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    weight_of = {f'{name}.weight': name for name in quantized_modules(model, prefixes)}
    nodes, added, done = [], [], []

    def qdq(tensor, key, tag):
        scale, zero = activation_qparams(*ranges[key])
        s, z = f'{tensor}_{tag}_scale', f'{tensor}_{tag}_zero'
        added.extend([numpy_helper.from_array(np.array(scale), s), numpy_helper.from_array(np.array(zero), z)])
        q, dq = f'{tensor}_{tag}_q', f'{tensor}_{tag}_dq'
        return [helper.make_node('QuantizeLinear', [tensor, s, z], [q], name=q),
                helper.make_node('DequantizeLinear', [q, s, z], [dq], name=dq)], dq

    for node in g.node:
        name = weight_of.get(node.input[1]) if node.op_type == 'Conv' and len(node.input) > 1 else None
        if name is None:
            nodes.append(node)
            continue
        pre, x = qdq(node.input[0], name + ':in', 'in')
        w = numpy_helper.to_array(inits[node.input[1]])
        w_scale = (np.abs(w).reshape(w.shape[0], -1).max(1) / 127.0).astype(np.float32)
        w_scale[w_scale == 0] = 1.0
        w_q = np.clip(np.round(w / w_scale[:, None, None, None]), -127, 127).astype(np.int8)
        wn = node.input[1]
        added.extend([numpy_helper.from_array(w_q, wn + '_int8'), numpy_helper.from_array(w_scale, wn + '_scale'),
                      numpy_helper.from_array(np.zeros(w.shape[0], np.int8), wn + '_zero')])
        w_dq = helper.make_node('DequantizeLinear', [wn + '_int8', wn + '_scale', wn + '_zero'], [wn + '_dq'], axis=0, name=wn + '_dq')
        raw = node.output[0] + '_float'
        conv = helper.make_node('Conv', [x, wn + '_dq'] + list(node.input[2:]), [raw], name=node.name)
        conv.attribute.extend(node.attribute)
        post, y = qdq(raw, name + ':out', 'out')
        # the rest of the graph reads the dequantized output under the conv's own output name
        post[-1].output[0] = node.output[0]
        nodes.extend(pre + [w_dq, conv] + post)
        done.append(name)
    missing = set(weight_of.values()) - set(done)
    if missing:
        raise SystemExit(f'{graph_path}: no Conv reads {sorted(missing)}')
    unused = {wn for wn in weight_of}
    keep = [i for i in g.initializer if i.name not in unused]
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(keep + added)
    onnx.checker.check_model(m)
    onnx.save(m, out_path)
    return done


def quantize_checkpoint(model, step, graph, out, clips_dir, count=256, seed=5, float_head=False):
    """Writes the int8 graph of `graph` (exported from `model`) and its calibration record beside it."""
    clips = Clips(clips_dir, 'train', model.scale)
    prefixes = FLOAT_HEAD if float_head else QUANTIZED
    ranges = calibrate(model, clips, count, seed, prefixes)
    done = quantize_graph(graph, model, ranges, out, prefixes)
    with open(os.path.splitext(out)[0] + '-calibration.json', 'w') as f:
        json.dump({'checkpoint_step': step, 'clips': min(count, len(clips)), 'seed': seed,
                   'quantized': done, 'ranges': {k: [round(a, 6), round(b, 6)] for k, (a, b) in sorted(ranges.items())}}, f, indent=1)
        f.write('\n')
    print(f'{out}: {len(done)} convolutions in int8 ({", ".join(done)})', file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--checkpoint', required=True, help='the weights the float graph was exported from')
    ap.add_argument('--graph', required=True, help='the exported float graph')
    ap.add_argument('--out', required=True)
    ap.add_argument('--clips', default=os.path.join(HERE, 'work', 'clips'))
    ap.add_argument('--count', type=int, default=256, help='training clips to calibrate on')
    ap.add_argument('--seed', type=int, default=5)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--float-head', action='store_true', help='keep the head convolution in float (see FLOAT_HEAD)')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, ck = load_checkpoint(args.checkpoint)
    quantize_checkpoint(model, ck['step'], args.graph, args.out, args.clips, args.count, args.seed, args.float_head)


if __name__ == '__main__':
    main()
