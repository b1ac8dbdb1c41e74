"""Writes the history warp that causal-sr graphs are exported with (net.py's warp_hr_block) as an ONNX
graph, and cases for it with the answer of the warp the network was trained with (warp_hr: torch's
own GridSample, nearest, border padding), for test/block-warp.test.ts to run in onnxruntime-node.

    python3 block_warp_cases.py OUT_DIR

OUT_DIR/cases.json lists the cases; each case's tensors are raw float32 files beside it. The flows
are whole translations (the same flow everywhere), where the two warps are the same warp, so the
graph must give GridSample's answer exactly, edges included; `smooth` is a varying flow, where they
may differ and the share of equal pixels is reported.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'models', 'train'))
from net import warp_hr, warp_hr_block  # noqa: E402


class BlockWarp(torch.nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, image, flow):
        return warp_hr_block(image, flow, self.scale)


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(3)
    cases = []
    for scale in (4, 2):
        graph = os.path.join(out, f'warp-x{scale}.onnx')
        # traced at one size, run at others: the graph must follow the input's size
        torch.onnx.export(BlockWarp(scale), (torch.rand(1, 1, 16 * scale, 12 * scale), torch.zeros(1, 2, 8, 6)), graph,
                          opset_version=17, input_names=['image', 'flow'], output_names=['warped'],
                          dynamic_axes={'image': {2: 'hh', 3: 'ww'}, 'flow': {2: 'fh', 3: 'fw'}, 'warped': {2: 'hh', 3: 'ww'}})
        h, w = 13, 22  # LR size: odd, not square
        image = torch.rand(1, 1, h * scale, w * scale)
        # flows in LR pixels (x, y), none on a half HR pixel (GridSample's rounding ties go to even)
        shifts = [(0, 0), (1, 0), (0, -1), (0.3, 0.2), (-1.7, 2.6), (2.2, -0.4), (40, 0), (0, -30), (-25, 25)]
        for fx, fy in shifts:
            flow = torch.empty(1, 2, (h + 1) // 2, (w + 1) // 2)
            flow[:, 0], flow[:, 1] = fx, fy
            cases.append(case(out, scale, graph, f'x{scale} translation ({fx}, {fy}) LR px', image, flow, exact=True))
        ramp = torch.linspace(-1.5, 1.5, (w + 1) // 2).view(1, 1, 1, -1).expand(1, 2, (h + 1) // 2, -1).contiguous()
        cases.append(case(out, scale, graph, f'x{scale} smooth flow', image, ramp, exact=False))
    with open(os.path.join(out, 'cases.json'), 'w') as f:
        json.dump(cases, f)


def case(out, scale, graph, name, image, flow, exact):
    base = os.path.join(out, f'case{len(os.listdir(out))}')
    expected = warp_hr(image, flow, scale)
    for suffix, t in (('image', image), ('flow', flow), ('expected', expected)):
        t.numpy().astype('float32').tofile(f'{base}-{suffix}.f32')
    return {'name': name, 'graph': graph, 'exact': exact, 'base': base,
            'imageDims': list(image.shape), 'flowDims': list(flow.shape)}


if __name__ == '__main__':
    main(sys.argv[1])
