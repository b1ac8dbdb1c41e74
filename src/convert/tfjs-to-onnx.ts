import { UsageError } from '../core/errors.js';
import { GraphBuilder, encodeModel } from '../onnx/graph.js';
import { nameGraphOutput } from './graph-output.js';
import { subPixelConv } from './sub-pixel.js';
import { layerWeight, type TfjsLayer, type TfjsModel } from './tfjs-model.js';

/** A tensor of the NCHW graph standing for a Keras layer's output. */
interface Value {
  readonly name: string;
  readonly channels: number;
  /** Nearest upsampling still to apply: folded into the convolution that alone reads it. */
  readonly upsample?: number;
}

interface Emit {
  readonly g: GraphBuilder;
  readonly model: TfjsModel;
  readonly values: Map<string, Value>;
  readonly fold: boolean;
  readonly scale: ValueScale;
}

/** Input and output value scaling, folded into the first and last convolutions when possible. */
interface ValueScale {
  readonly input: number;
  readonly output: number;
  readonly inputInConvs: boolean;
  readonly outputInConv: boolean;
}

export interface ConvertOptions {
  readonly graphName: string;
  /** Fold UpSampling2D into the convolution after it (default true; see sub-pixel.ts). */
  readonly foldUpsampling?: boolean;
  /** Multiply input values by this (255: the graph takes 0..1 where the model wants 0..255). */
  readonly inputScale?: number;
  /** Multiply output values by this (1/255: the graph gives 0..1). */
  readonly outputScale?: number;
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

export const TFJS_LAYERS = ['InputLayer', 'Conv2D', 'Activation', 'ReLU', 'Concatenate', 'Add', 'UpSampling2D'] as const;
export const TFJS_ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'tanh'] as const;

/**
 * Converts a Keras layers-model (channels-last, as TensorFlow.js ships it) to an ONNX graph in NCHW
 * with dynamic height and width: input `input` [1,C,height,width], output `output`. Pixel values
 * pass through unchanged (UpscalerJS's ESRGAN models work on 0..255).
 */
export function tfjsToOnnx(model: TfjsModel, opts: ConvertOptions): Uint8Array {
  if (model.inputLayers.length !== 1 || model.outputLayers.length !== 1) {
    throw new UsageError(`TensorFlow.js model ${model.source}: ${model.inputLayers.length} inputs and ${model.outputLayers.length} outputs; one of each is supported`);
  }
  const e: Emit = { g: new GraphBuilder(opts.graphName), model, values: new Map(), fold: opts.foldUpsampling ?? true, scale: planScale(model, opts) };
  for (const layer of model.layers) e.values.set(layer.name, emitLayer(e, layer));
  let out = e.values.get(model.outputLayers[0]!)!;
  if (e.scale.output !== 1 && !e.scale.outputInConv) out = { ...out, name: e.g.op('Mul', [out.name, e.g.constant('output_scale', 'float32', [], [e.scale.output])]) };
  nameGraphOutput(e.g, out.name, 'output');
  e.g.output('output', 'float32', [1, out.channels, 'out_height', 'out_width']);
  return encodeModel(e.g, { ...(opts.docString ? { docString: opts.docString } : {}), ...(opts.metadata ? { metadata: opts.metadata } : {}) });
}

/** The input scale goes into the weights when only convolutions read the input; the output scale when a convolution ends the graph. */
function planScale(model: TfjsModel, opts: ConvertOptions): ValueScale {
  const input = opts.inputScale ?? 1;
  const output = opts.outputScale ?? 1;
  const readers = model.layers.filter((l) => l.inputs.includes(model.inputLayers[0]!));
  const last = model.layers.find((l) => l.name === model.outputLayers[0]);
  const linearOrRelu = ['linear', 'relu', undefined].includes(last?.config.activation as string | undefined);
  return { input, output, inputInConvs: readers.every((l) => l.className === 'Conv2D'), outputInConv: last?.className === 'Conv2D' && linearOrRelu && output > 0 };
}

function unsupported(e: Emit, layer: TfjsLayer, what: string): never {
  throw new UsageError(`TensorFlow.js model ${e.model.source}: layer '${layer.name}' (${layer.className}): ${what}`);
}

function inputsOf(e: Emit, layer: TfjsLayer): Value[] {
  return layer.inputs.map((n) => e.values.get(n)!);
}

function emitLayer(e: Emit, layer: TfjsLayer): Value {
  switch (layer.className) {
    case 'InputLayer':
      return emitInput(e, layer);
    case 'Conv2D':
      return emitConv(e, layer);
    case 'Activation':
      return activation(e, layer, inputsOf(e, layer)[0]!, String(layer.config.activation));
    case 'ReLU':
      if (layer.config.max_value != null || Number(layer.config.negative_slope ?? 0) !== 0 || Number(layer.config.threshold ?? 0) !== 0) {
        unsupported(e, layer, 'only the plain ReLU (no max_value, negative_slope or threshold) is supported');
      }
      return activation(e, layer, inputsOf(e, layer)[0]!, 'relu');
    case 'Concatenate':
      return emitConcat(e, layer);
    case 'Add':
      return emitAdd(e, layer);
    case 'UpSampling2D':
      return emitUpSampling(e, layer);
    default:
      return unsupported(e, layer, `layer type not supported (supported: ${TFJS_LAYERS.join(', ')})`);
  }
}

function emitInput(e: Emit, layer: TfjsLayer): Value {
  const shape = (layer.config.batch_input_shape ?? layer.config.batch_shape) as unknown;
  if (!Array.isArray(shape) || shape.length !== 4) unsupported(e, layer, `input shape ${JSON.stringify(shape)} is not [batch, height, width, channels]`);
  const channels = Number(shape[3]);
  if (!Number.isInteger(channels) || channels < 1) unsupported(e, layer, `input channels ${String(shape[3])} must be a fixed number`);
  e.g.input('input', 'float32', [1, channels, 'height', 'width']);
  if (e.scale.input !== 1 && !e.scale.inputInConvs) return { name: e.g.op('Mul', ['input', e.g.constant('input_scale', 'float32', [], [e.scale.input])]), channels };
  return { name: 'input', channels };
}

function pair(v: unknown, fallback: number): [number, number] {
  if (Array.isArray(v)) return [Number(v[0]), Number(v[1] ?? v[0])];
  if (typeof v === 'number') return [v, v];
  return [fallback, fallback];
}

/** TensorFlow's 'same' padding at stride 1: the odd pixel of an even kernel goes after. */
function samePads(kernel: number, dilation: number): [number, number] {
  const total = (kernel - 1) * dilation;
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function checkConvConfig(e: Emit, layer: TfjsLayer): void {
  const c = layer.config;
  if ((c.data_format ?? 'channels_last') !== 'channels_last') unsupported(e, layer, `data_format ${String(c.data_format)} is not supported (channels_last only)`);
  if (pair(c.strides, 1).some((s) => s !== 1)) unsupported(e, layer, `strides ${JSON.stringify(c.strides)} are not supported (1 only)`);
  if (Number(c.groups ?? 1) !== 1) unsupported(e, layer, `groups ${String(c.groups)} are not supported`);
  if (c.padding !== 'same' && c.padding !== 'valid') unsupported(e, layer, `padding '${String(c.padding)}' is not supported (same, valid)`);
}

function emitConv(e: Emit, layer: TfjsLayer): Value {
  checkConvConfig(e, layer);
  const c = layer.config;
  const x = inputsOf(e, layer)[0]!;
  const kernel = layerWeight(e.model, layer.name, 'kernel') ?? unsupported(e, layer, `weight '${layer.name}/kernel' is missing`);
  const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
  if (kernel.shape.length !== 4 || cin !== x.channels) unsupported(e, layer, `kernel shape [${kernel.shape.join(',')}] does not take ${x.channels} input channels`);
  const [dh, dw] = pair(c.dilation_rate, 1);
  const [top, bottom] = c.padding === 'same' ? samePads(kh, dh) : [0, 0];
  const [left, right] = c.padding === 'same' ? samePads(kw, dw) : [0, 0];
  const isLast = e.scale.outputInConv && e.model.outputLayers[0] === layer.name;
  const outScale = isLast ? e.scale.output : 1;
  const inScale = e.scale.inputInConvs && layer.inputs[0] === e.model.inputLayers[0] ? e.scale.input : 1;
  const oihw = hwioToOihw(kernel.data, kh, kw, cin, cout).map((v) => v * inScale * outScale);
  const rawBias = c.use_bias === false ? undefined : (layerWeight(e.model, layer.name, 'bias') ?? unsupported(e, layer, `weight '${layer.name}/bias' is missing`)).data;
  const bias = rawBias?.map((v) => v * outScale);
  if (x.upsample) {
    const s = x.upsample;
    const sub = subPixelConv(oihw, [cout, cin, kh, kw], s, [dh, dw], [top, left], bias);
    const inputs = [x.name, e.g.constant(`${layer.name}/kernel`, 'float32', sub.dims, sub.weights), ...(sub.bias ? [e.g.constant(`${layer.name}/bias`, 'float32', [sub.dims[0]], sub.bias)] : [])];
    const phases = e.g.op('Conv', inputs, { kernel_shape: [sub.dims[2], sub.dims[3]], pads: sub.pads, strides: [1, 1] });
    const name = e.g.op('DepthToSpace', [phases], { blocksize: s, mode: 'CRD' });
    return activation(e, layer, { name, channels: cout }, String(c.activation ?? 'linear'));
  }
  const inputs = [x.name, e.g.constant(`${layer.name}/kernel`, 'float32', [cout, cin, kh, kw], oihw)];
  if (bias) inputs.push(e.g.constant(`${layer.name}/bias`, 'float32', [cout], bias));
  const name = e.g.op('Conv', inputs, { kernel_shape: [kh, kw], pads: [top, left, bottom, right], dilations: [dh, dw], strides: [1, 1] });
  return activation(e, layer, { name, channels: cout }, String(c.activation ?? 'linear'));
}

/** Keras kernels are [kh, kw, in, out]; ONNX wants [out, in, kh, kw]. */
export function hwioToOihw(data: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < cin; i++) {
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = data[((y * kw + x) * cin + i) * cout + o]!;
      }
    }
  }
  return out;
}

function activation(e: Emit, layer: TfjsLayer, x: Value, kind: string): Value {
  switch (kind) {
    case 'linear':
      return x;
    case 'relu':
      return { name: e.g.op('Relu', [x.name]), channels: x.channels };
    case 'sigmoid':
      return { name: e.g.op('Sigmoid', [x.name]), channels: x.channels };
    case 'tanh':
      return { name: e.g.op('Tanh', [x.name]), channels: x.channels };
    default:
      return unsupported(e, layer, `activation '${kind}' is not supported (supported: ${TFJS_ACTIVATIONS.join(', ')})`);
  }
}

/** NHWC axis → NCHW axis. */
const AXIS: Record<number, number> = { 0: 0, 1: 2, 2: 3, 3: 1 };

function emitConcat(e: Emit, layer: TfjsLayer): Value {
  const xs = inputsOf(e, layer);
  const raw = Number(layer.config.axis ?? -1);
  const axis = AXIS[raw < 0 ? raw + 4 : raw];
  if (axis === undefined) unsupported(e, layer, `axis ${raw} is not an axis of a 4-D tensor`);
  if (axis !== 1) unsupported(e, layer, `concatenation along axis ${raw} (not the channels) is not supported`);
  return { name: e.g.op('Concat', xs.map((x) => x.name), { axis }), channels: xs.reduce((n, x) => n + x.channels, 0) };
}

function emitAdd(e: Emit, layer: TfjsLayer): Value {
  const xs = inputsOf(e, layer);
  if (xs.length < 2) unsupported(e, layer, 'needs at least two inputs');
  if (xs.some((x) => x.channels !== xs[0]!.channels)) unsupported(e, layer, `inputs have different channel counts (${xs.map((x) => x.channels).join(', ')})`);
  const name = xs.length === 2 ? e.g.op('Add', [xs[0]!.name, xs[1]!.name]) : e.g.op('Sum', xs.map((x) => x.name));
  return { name, channels: xs[0]!.channels };
}

/** Folding needs one reader, a 'same' convolution (its output keeps the upsampled size). */
function onlyReaderIsSameConv(e: Emit, layer: TfjsLayer): boolean {
  const readers = e.model.layers.filter((l) => l.inputs.includes(layer.name));
  const reader = readers[0];
  return readers.length === 1 && reader!.className === 'Conv2D' && reader!.config.padding === 'same' && !e.model.outputLayers.includes(layer.name);
}

/** Keras nearest upsampling repeats pixels: ONNX Resize nearest with asymmetric coordinates and floor. */
function emitUpSampling(e: Emit, layer: TfjsLayer): Value {
  const c = layer.config;
  const x = inputsOf(e, layer)[0]!;
  if ((c.interpolation ?? 'nearest') !== 'nearest') unsupported(e, layer, `interpolation '${String(c.interpolation)}' is not supported (nearest only)`);
  if ((c.data_format ?? 'channels_last') !== 'channels_last') unsupported(e, layer, `data_format ${String(c.data_format)} is not supported`);
  const [sh, sw] = pair(c.size, 2);
  if (e.fold && sh === sw && onlyReaderIsSameConv(e, layer)) return { ...x, upsample: sh };
  const scales = e.g.constant(`${layer.name}/scales`, 'float32', [4], [1, 1, sh, sw]);
  const name = e.g.op('Resize', [x.name, '', scales], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
  return { name, channels: x.channels };
}
