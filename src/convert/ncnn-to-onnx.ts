import { UsageError } from '../core/errors.js';
import { GraphBuilder, encodeModel } from '../onnx/graph.js';
import { nameGraphOutput } from './graph-output.js';
import { num, type NcnnLayer, type NcnnModel } from './ncnn-model.js';
import type { ConvertOptions } from './tfjs-to-onnx.js';

interface Emit {
  readonly g: GraphBuilder;
  readonly model: NcnnModel;
  /** ncnn blob name → ONNX tensor name. */
  readonly blobs: Map<string, string>;
  /** ONNX tensor name → channel count. */
  readonly channels: Map<string, number>;
}

/**
 * Converts an ncnn graph (as Real-ESRGAN's compact models ship) to ONNX: NCHW, dynamic height and
 * width, input `input` [1,C,height,width], output `output`; values pass through unchanged.
 */
export function ncnnToOnnx(model: NcnnModel, opts: ConvertOptions): Uint8Array {
  const e: Emit = { g: new GraphBuilder(opts.graphName), model, blobs: new Map(), channels: new Map() };
  for (const layer of model.layers) emitLayer(e, layer);
  const consumed = new Set(model.layers.flatMap((l) => l.bottoms));
  const ends = model.layers.flatMap((l) => l.tops).filter((t) => !consumed.has(t));
  if (ends.length !== 1) throw new UsageError(`ncnn model ${model.source}: ${ends.length} output blobs (${ends.join(', ')}); one is supported`);
  const out = e.blobs.get(ends[0]!)!;
  nameGraphOutput(e.g, out, 'output');
  e.g.output('output', 'float32', [1, e.channels.get(out) ?? 3, 'out_height', 'out_width']);
  return encodeModel(e.g, { ...(opts.docString ? { docString: opts.docString } : {}), ...(opts.metadata ? { metadata: opts.metadata } : {}) });
}

function unsupported(e: Emit, layer: NcnnLayer, what: string): never {
  throw new UsageError(`ncnn model ${e.model.source}: layer ${layer.name} (${layer.type}): ${what}`);
}

function bottom(e: Emit, layer: NcnnLayer, i = 0): string {
  const blob = layer.bottoms[i];
  const tensor = blob === undefined ? undefined : e.blobs.get(blob);
  return tensor ?? unsupported(e, layer, `input blob ${blob ?? `#${i}`} is not produced by an earlier layer`);
}

function produce(e: Emit, layer: NcnnLayer, tensor: string, channels: number): void {
  e.blobs.set(layer.tops[0]!, tensor);
  e.channels.set(tensor, channels);
}

function emitLayer(e: Emit, layer: NcnnLayer): void {
  switch (layer.type) {
    case 'Input': {
      if (e.g.inputs.length) unsupported(e, layer, 'a second Input is not supported');
      const channels = num(layer.params, 2, 3);
      e.g.input('input', 'float32', [1, channels, 'height', 'width']);
      return produce(e, layer, 'input', channels);
    }
    case 'Split': {
      const x = bottom(e, layer);
      for (const top of layer.tops) e.blobs.set(top, x);
      return;
    }
    case 'Convolution':
      return emitConvolution(e, layer);
    case 'PReLU':
      return emitPrelu(e, layer);
    case 'PixelShuffle':
      return emitPixelShuffle(e, layer);
    case 'Interp':
      return emitInterp(e, layer);
    case 'BinaryOp':
      return emitBinaryOp(e, layer);
    default:
      return unsupported(e, layer, 'layer type not supported');
  }
}

/** ncnn Convolution params: 0 outputs, 1/11 kernel w/h, 2/12 dilation, 3/13 stride, 4/14/15/16 pads, 5 bias, 9 activation. */
function emitConvolution(e: Emit, layer: NcnnLayer): void {
  const p = layer.params;
  const x = bottom(e, layer);
  const cout = num(p, 0, 0);
  const kw = num(p, 1, 0);
  const kh = num(p, 11, kw);
  const [weight, bias] = layer.weights;
  const cin = weight!.length / (cout * kh * kw);
  if (!Number.isInteger(cin) || cin !== e.channels.get(x)) unsupported(e, layer, `${weight!.length} weights do not fit ${cout}x${e.channels.get(x)}x${kh}x${kw}`);
  const dw = num(p, 2, 1);
  const sw = num(p, 3, 1);
  const left = num(p, 4, 0);
  const top = num(p, 14, left);
  const attrs: Record<string, number | string | number[]> = { kernel_shape: [kh, kw], dilations: [num(p, 12, dw), dw], strides: [num(p, 13, sw), sw] };
  if (left === -233 || left === -234) attrs.auto_pad = left === -233 ? 'SAME_UPPER' : 'SAME_LOWER';
  else attrs.pads = [top, left, num(p, 16, top), num(p, 15, left)];
  if (num(p, 18, 0) !== 0) unsupported(e, layer, `pad value ${num(p, 18, 0)} is not supported (zero padding only)`);
  const inputs = [x, e.g.constant(`${layer.name}.weight`, 'float32', [cout, cin, kh, kw], weight!)];
  if (bias) inputs.push(e.g.constant(`${layer.name}.bias`, 'float32', [cout], bias));
  const conv = e.g.op('Conv', inputs, attrs);
  produce(e, layer, convActivation(e, layer, conv), cout);
}

function convActivation(e: Emit, layer: NcnnLayer, x: string): string {
  const type = num(layer.params, 9, 0);
  const args = layer.params.get(10);
  if (type === 0) return x;
  if (type === 1) return e.g.op('Relu', [x]);
  if (type === 2) return e.g.op('LeakyRelu', [x], { alpha: { float: Array.isArray(args) ? args[0]! : 0 } });
  return unsupported(e, layer, `fused activation type ${type} is not supported (none, ReLU, leaky ReLU)`);
}

function emitPrelu(e: Emit, layer: NcnnLayer): void {
  const x = bottom(e, layer);
  const slope = layer.weights[0]!;
  const channels = e.channels.get(x)!;
  if (slope.length !== 1 && slope.length !== channels) unsupported(e, layer, `${slope.length} slopes for ${channels} channels`);
  const dims = slope.length === 1 ? [1] : [slope.length, 1, 1];
  produce(e, layer, e.g.op('PRelu', [x, e.g.constant(`${layer.name}.slope`, 'float32', dims, slope)]), channels);
}

/** ncnn mode 0 is PyTorch's pixel_shuffle (ONNX DepthToSpace CRD); mode 1 is DCR. */
function emitPixelShuffle(e: Emit, layer: NcnnLayer): void {
  const x = bottom(e, layer);
  const r = num(layer.params, 0, 1);
  const mode = num(layer.params, 1, 0);
  const channels = e.channels.get(x)!;
  if (channels % (r * r)) unsupported(e, layer, `${channels} channels do not divide by ${r}x${r}`);
  produce(e, layer, e.g.op('DepthToSpace', [x], { blocksize: r, mode: mode === 0 ? 'CRD' : 'DCR' }), channels / (r * r));
}

const RESIZE: Record<number, Record<string, number | string | { float: number }>> = {
  1: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
  // ncnn's bicubic: Keys a = -0.75, half-pixel centres, taps outside the image clamped to the edge
  3: { mode: 'cubic', coordinate_transformation_mode: 'half_pixel', cubic_coeff_a: { float: -0.75 }, exclude_outside: 0 },
};

/** ncnn Interp params: 0 type (1 nearest, 2 bilinear, 3 bicubic), 1/2 height/width scale, 3/4 fixed size. */
function emitInterp(e: Emit, layer: NcnnLayer): void {
  const p = layer.params;
  const x = bottom(e, layer);
  const attrs = RESIZE[num(p, 0, 0)] ?? unsupported(e, layer, `resize type ${num(p, 0, 0)} is not supported (1 nearest, 3 bicubic)`);
  if (num(p, 3, 0) || num(p, 4, 0) || num(p, 5, 0)) unsupported(e, layer, 'a fixed or dynamic output size is not supported (scale factors only)');
  if (num(p, 6, 0)) unsupported(e, layer, 'align_corner is not supported');
  const scales = e.g.constant(`${layer.name}.scales`, 'float32', [4], [1, 1, num(p, 1, 1), num(p, 2, 1)]);
  produce(e, layer, e.g.op('Resize', [x, '', scales], attrs), e.channels.get(x)!);
}

const BINARY: Record<number, string> = { 0: 'Add', 1: 'Sub', 2: 'Mul', 3: 'Div' };

function emitBinaryOp(e: Emit, layer: NcnnLayer): void {
  const op = BINARY[num(layer.params, 0, 0)] ?? unsupported(e, layer, `operation ${num(layer.params, 0, 0)} is not supported (add, sub, mul, div)`);
  const a = bottom(e, layer);
  const b = num(layer.params, 1, 0) ? e.g.constant(`${layer.name}.b`, 'float32', [], [num(layer.params, 2, 0)]) : bottom(e, layer, 1);
  produce(e, layer, e.g.op(op, [a, b]), e.channels.get(a)!);
}
