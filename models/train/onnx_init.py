"""A training checkpoint from an exported causal-sr graph, to go on training the committed model.

Export keeps the PyTorch names of the weights as the graph's initialisers, so the network's tensors
are read back by name and shape; the fixed bicubic skip is the network's own and is not read.

    /usr/bin/python3 models/train/onnx_init.py --onnx models/causal-sr/causal-sr-x4.onnx \
        --config models/train/configs/x4-luma-ft.json --out models/train/runs/committed-x4.pt
"""
import argparse
import sys

import onnx
import torch
from onnx import numpy_helper

from net import CausalSR
from train import load_config


def weights_of(graph):
    """The network's tensors by PyTorch name. Export keeps the parameters' names, as initialisers,
    except where it merged identical ones (the zero biases of a barely trained network): the others
    then come out of Identity nodes reading the one kept."""
    out = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}
    for node in graph.node:
        if node.op_type == 'Identity' and node.input[0] in out:
            out[node.output[0]] = out[node.input[0]]
    return out


def grow_head(graph, state):
    """A configuration with `mismatch` adds input channels after the head's others: give the graph's
    head zero weights for them, so the network starts out computing exactly what the graph does."""
    w, want = graph.get('head.weight'), state['head.weight']
    if w is None or w.shape == want.shape or w.shape[0] != want.shape[0] or w.shape[1] > want.shape[1] or w.shape[2:] != want.shape[2:]:
        return 0
    extra = want.shape[1] - w.shape[1]
    graph['head.weight'] = torch.cat((w, torch.zeros(w.shape[0], extra, *w.shape[2:])), 1)
    return extra


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--onnx', required=True)
    ap.add_argument('--config', required=True, help='the training configuration whose network the graph is')
    ap.add_argument('--out', required=True)
    ap.add_argument('--step', type=int, default=0, help='the step of the checkpoint the graph was exported from '
                    '(kept for export.py\'s origin line when the graph is exported again unchanged)')
    args = ap.parse_args()
    cfg = load_config(args.config)
    model = CausalSR(**cfg['model'])
    graph = weights_of(onnx.load(args.onnx).graph)
    state = model.state_dict()
    grown = grow_head(graph, state)
    missing = [k for k in state if not k.startswith('skip.') and (k not in graph or graph[k].shape != state[k].shape)]
    if missing:
        sys.exit(f'{args.onnx}: not this configuration\'s network (no {", ".join(missing)} of the right shape)')
    model.load_state_dict({k: graph[k] if not k.startswith('skip.') else v for k, v in state.items()})
    if grown:
        print(f'head: {grown} more input channels (the mismatch input), their weights zero: the same output as the graph', file=sys.stderr)
    torch.save({'model': model.state_dict(), 'config': cfg, 'step': args.step}, args.out)
    print(f'{args.out}: {len(state)} tensors from {args.onnx}', file=sys.stderr)


if __name__ == '__main__':
    main()
