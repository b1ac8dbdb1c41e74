/**
 * Stream-DiffVSR graphs with the real tensor interface (spec §2.1: names, shapes, channel counts)
 * and trivial maths, built with the project's ONNX writer. They exercise the runtime — call order,
 * feeds, state hand-off, shapes at 720p, memory — without the 688 M-parameter weights, in tests and
 * the benchmark. The warp is the real one (GridSample on the §1.5 grid) and the flow graph upsamples
 * with the real bicubic; everything else is a cheap function of its inputs:
 *   flow    = 4 · bicubic4((cur_lr − prev_lr)[channels 0,1])
 *   feat_k  = (k+1)/10 · mean_c(warped), average-pooled to the feature's size, repeated over C channels
 *   res_k   = s · (k+1)/13,  s = mean(warped) + 0.01·(mean(latents) + mean(lr_image) + mean(E)) + 1e-4·t
 *   v       = 0.5·latents + 0.1·mean_c(lr_image) + 1e-4·t + 0.01·mean(E) + 0.05·Σ mean(res_k)
 *   image   = 2.5 · nearest4(latents[channels 0..2]) (+ 0.3·mean_c(feat_6) + 0.2·Σ mean(feat_k))
 * so the decoder's output leaves [-1, 1] and the fused unet_step equals controlnet → unet.
 */
import { GraphBuilder, encodeModel, type Dim } from '../onnx/graph.js';
import { FEATURES, RESIDUALS, RESIDUAL_LEVELS } from '../inference/stream-diffvsr/interface.js';
import { bicubicPhaseWeights } from './bicubic.js';

export interface InterfaceChannels {
  /** Channels of down_res_0..11 and mid_res. */
  readonly residuals: readonly number[];
  /** Channels of feat_0..6. */
  readonly features: readonly number[];
  readonly textShape: readonly number[];
}

/** The SD ×4 upscaler UNet's residuals and the TAE's 64-channel blocks (spec §1.3, §1.4). */
export const REAL_CHANNELS: InterfaceChannels = {
  residuals: [256, 256, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024, 1024],
  features: [64, 64, 64, 64, 64, 64, 64],
  textShape: [1, 77, 1024],
};

/** LR size for static graphs, or undefined for symbolic h, w. */
export type LrSize = readonly [number, number] | undefined;

export class InterfaceBuilder extends GraphBuilder {
  private n = 0;
  scalar(value: number): string {
    return this.constant(`c${this.n++}`, 'float32', [], [value]);
  }
  /** A float32 tensor of shape [1]. */
  scalarVector(value: number): string {
    return this.constant(`v${this.n++}`, 'float32', [1], [value]);
  }
  ints(values: readonly number[]): string {
    return this.constant(`i${this.n++}`, 'int64', [values.length], values);
  }
  mean(x: string, axes?: readonly number[]): string {
    return this.op('ReduceMean', [x], axes ? { axes, keepdims: 1 } : { keepdims: 0 });
  }
  scaled(x: string, k: number): string {
    return this.op('Mul', [x, this.scalar(k)]);
  }
  sum(terms: readonly string[]): string {
    return terms.slice(1).reduce((acc, t) => this.op('Add', [acc, t]), terms[0]!);
  }
  channels(x: string, from: number, to: number): string {
    return this.op('Slice', [x, this.ints([from]), this.ints([to]), this.ints([1])]);
  }
  /** Repeats a 1×1×H×W tensor over `channels` channels (Tile copies; Expand and Mul broadcast slowly). */
  repeat(x: string, channels: number): string {
    return this.op('Tile', [x, this.ints([1, channels, 1, 1])]);
  }
  upscale(x: string): string {
    return this.op('Resize', [x, '', this.constant(`s${this.n++}`, 'float32', [4], [1, 1, 4, 4])], { mode: 'nearest' });
  }
  /**
   * torch's bicubic ×4 (Keys a = −0.75, half-pixel, edge taps, no clamp) of a C-channel image, as an
   * edge pad, one 5×5 convolution for the 16 output phases and DepthToSpace: the same values as a
   * cubic Resize, several times faster in ONNX Runtime.
   */
  bicubic4(x: string, channels: number): string {
    const weights = bicubicPhaseWeights(4, -0.75);
    const planes = this.op('Reshape', [x, this.ints([channels, 1, 0, 0])]);
    const padded = this.op('Pad', [planes, this.ints([0, 0, 2, 2, 0, 0, 2, 2])], { mode: 'edge' });
    const phases = this.op('Conv', [padded, this.constant(`k${this.n++}`, 'float32', [16, 1, 5, 5], weights)], { kernel_shape: [5, 5] });
    return this.op('Reshape', [this.op('DepthToSpace', [phases], { blocksize: 4, mode: 'CRD' }), this.ints([1, channels, 0, 0])]);
  }
}

export function dims(size: LrSize, factor: number, channels: number): Dim[] {
  if (!size) return [1, channels, factor === 1 ? 'h' : `${factor}h`, factor === 1 ? 'w' : `${factor}w`];
  return [1, channels, size[0] * factor, size[1] * factor];
}

export function encode(g: InterfaceBuilder, name: string): Uint8Array {
  return encodeModel(g, { docString: `stream-diffvsr interface graph '${name}' (trivial maths, real tensor interface)` });
}

export function flowPart(size: LrSize): InterfaceBuilder {
  const g = new InterfaceBuilder('flow');
  g.input('cur_lr', 'float32', dims(size, 1, 3));
  g.input('prev_lr', 'float32', dims(size, 1, 3));
  // bicubic is linear: upscaling the difference of channels 0 and 1 equals the difference of the upscaled frames
  const diff = g.channels(g.op('Sub', ['cur_lr', 'prev_lr']), 0, 2);
  g.op('Mul', [g.bicubic4(diff, 2), g.scalar(4)], {}, 'flow');
  g.output('flow', 'float32', dims(size, 4, 2));
  return g;
}

/** The §1.5 warp grid, built from the flow's own shape: g = 2·(pixel + flow)/max(side − 1, 1) − 1. */
function warpGrid(g: InterfaceBuilder, flow: string): string {
  const shape = g.op('Shape', [flow]);
  const side = (axis: number) => g.op('Gather', [shape, g.ints([axis])], { axis: 0 });
  const coords = (axis: number) => {
    const n = side(axis);
    const range = g.op('Cast', [g.op('Range', [g.constant(`z${axis}`, 'int64', [], [0]), g.op('Squeeze', [n]), g.constant(`o${axis}`, 'int64', [], [1])])], { to: 1 });
    const denominator = g.op('Max', [g.op('Sub', [g.op('Cast', [n], { to: 1 }), g.scalar(1)]), g.scalar(1)]);
    const offset = g.op('Squeeze', [g.channels(flow, 3 - axis, 4 - axis), g.ints([1])]);
    const positions = axis === 3 ? g.op('Add', [range, offset]) : g.op('Add', [g.op('Unsqueeze', [range, g.ints([1])]), offset]);
    return g.op('Sub', [g.op('Div', [g.scaled(positions, 2), denominator]), g.scalar(1)]);
  };
  const gx = g.op('Unsqueeze', [coords(3), g.ints([3])]);
  const gy = g.op('Unsqueeze', [coords(2), g.ints([3])]);
  return g.op('Concat', [gx, gy], { axis: 3 });
}

/** The warp alone, any size: prev_hr (1,C,H,W), flow (1,2,H,W) → warped_prev_hr (tests of §1.5). */
export function warpGraph(channels = 3): Uint8Array {
  const g = new InterfaceBuilder('warp');
  g.input('prev_hr', 'float32', [1, channels, 'H', 'W']);
  g.input('flow', 'float32', [1, 2, 'H', 'W']);
  g.op('GridSample', ['prev_hr', warpGrid(g, 'flow')], { mode: 'bilinear', padding_mode: 'zeros', align_corners: 0 }, 'warped_prev_hr');
  g.output('warped_prev_hr', 'float32', [1, channels, 'H', 'W']);
  return encode(g, 'warp');
}

export function warpEncodePart(size: LrSize, ch: InterfaceChannels): InterfaceBuilder {
  const g = new InterfaceBuilder('warp_encode');
  g.input('prev_hr', 'float32', dims(size, 4, 3));
  g.input('flow', 'float32', dims(size, 4, 2));
  g.op('GridSample', ['prev_hr', warpGrid(g, 'flow')], { mode: 'bilinear', padding_mode: 'zeros', align_corners: 0 }, 'warped_prev_hr');
  g.output('warped_prev_hr', 'float32', dims(size, 4, 3));
  const grey = g.mean('warped_prev_hr', [1]);
  const pooled = (k: number) => (k === 1 ? grey : g.op('AveragePool', [grey], { kernel_shape: [k, k], strides: [k, k] }));
  FEATURES.forEach((name, i) => {
    const factor = i < 3 ? 1 : i < 6 ? 2 : 4;
    g.op('Identity', [g.repeat(g.scaled(pooled(4 / factor), (i + 1) / 10), ch.features[i]!)], {}, name);
    g.output(name, 'float32', dims(size, factor, ch.features[i]!));
  });
  return g;
}

function denoiserInputs(g: InterfaceBuilder, size: LrSize, ch: InterfaceChannels): void {
  g.input('latents', 'float32', dims(size, 1, 4));
  g.input('lr_image', 'float32', dims(size, 1, 3));
  g.input('timestep', 'float32', [1]);
  g.input('encoder_hidden_states', 'float32', [...ch.textShape]);
}

/** s = mean(warped) + 0.01·(mean(latents) + mean(lr_image) + mean(E)) + 1e-4·t, shape [1]. */
function controlSignal(g: InterfaceBuilder): string {
  const inputs = g.sum(['latents', 'lr_image', 'encoder_hidden_states'].map((name) => g.mean(name)));
  return g.sum([g.op('Reshape', [g.mean('warped_prev_hr'), g.ints([1])]), g.scaled(inputs, 0.01), g.scaled('timestep', 1e-4)]);
}

/** v without residuals: 0.5·latents + 0.1·mean_c(lr_image) + 1e-4·t + 0.01·mean(E). */
function baseVelocity(g: InterfaceBuilder): string {
  return g.sum([g.scaled('latents', 0.5), g.scaled(g.mean('lr_image', [1]), 0.1), g.scaled('timestep', 1e-4), g.scaled(g.mean('encoder_hidden_states'), 0.01)]);
}

/** Residual shape [1, C, h_k, w_k] from the latents' own shape (ceil-halving per level), as Tile repeats. */
export function levelShape(g: InterfaceBuilder, channels: number, level: number, latents = 'latents'): string {
  let hw = g.op('Slice', [g.op('Shape', [latents]), g.ints([2]), g.ints([4])]);
  for (let i = 0; i < level; i++) hw = g.op('Div', [g.op('Add', [hw, g.ints([1, 1])]), g.ints([2, 2])]);
  return g.op('Concat', [g.ints([1, channels]), hw], { axis: 0 });
}

export function residualDims(size: LrSize, channels: number, level: number): Dim[] {
  if (!size) return [1, channels, `h${level}`, `w${level}`];
  let [h, w] = size;
  for (let i = 0; i < level; i++) [h, w] = [Math.ceil(h / 2), Math.ceil(w / 2)];
  return [1, channels, h, w];
}

export function controlnetPart(size: LrSize, ch: InterfaceChannels): InterfaceBuilder {
  const g = new InterfaceBuilder('controlnet');
  denoiserInputs(g, size, ch);
  g.input('warped_prev_hr', 'float32', dims(size, 4, 3));
  const s = g.op('Reshape', [controlSignal(g), g.ints([1, 1, 1, 1])]);
  RESIDUALS.forEach((name, i) => {
    const level = RESIDUAL_LEVELS[i]!;
    g.op('Tile', [g.scaled(s, (i + 1) / 13), levelShape(g, ch.residuals[i]!, level)], {}, name);
    g.output(name, 'float32', residualDims(size, ch.residuals[i]!, level));
  });
  return g;
}

export function unetPart(size: LrSize, ch: InterfaceChannels): InterfaceBuilder {
  const g = new InterfaceBuilder('unet');
  denoiserInputs(g, size, ch);
  RESIDUALS.forEach((name, i) => g.input(name, 'float32', residualDims(size, ch.residuals[i]!, RESIDUAL_LEVELS[i]!)));
  const residualTerm = g.scaled(g.sum(RESIDUALS.map((name) => g.mean(name))), 0.05);
  g.op('Add', [baseVelocity(g), residualTerm], {}, 'model_output');
  g.output('model_output', 'float32', dims(size, 1, 4));
  return g;
}

/** Fused ControlNet + UNet: Σ mean(res_k) = s·Σ(k+1)/13 = 7s, so v = base + scale·0.35·s. */
export function unetStepPart(size: LrSize, ch: InterfaceChannels): InterfaceBuilder {
  const g = new InterfaceBuilder('unet_step');
  denoiserInputs(g, size, ch);
  g.input('warped_prev_hr', 'float32', dims(size, 4, 3));
  g.input('controlnet_scale', 'float32', [1]);
  const control = g.scaled(g.op('Mul', [controlSignal(g), 'controlnet_scale']), 0.35);
  g.op('Add', [baseVelocity(g), control], {}, 'model_output');
  g.output('model_output', 'float32', dims(size, 1, 4));
  return g;
}

export function decoderPart(size: LrSize, ch: InterfaceChannels, temporal: boolean): InterfaceBuilder {
  const g = new InterfaceBuilder(temporal ? 'tae_decode_temporal' : 'tae_decode');
  g.input('latents', 'float32', dims(size, 1, 4));
  const image = g.scaled(g.upscale(g.channels('latents', 0, 3)), 2.5);
  if (!temporal) {
    g.op('Identity', [image], {}, 'image');
  } else {
    FEATURES.forEach((name, i) => g.input(name, 'float32', dims(size, i < 3 ? 1 : i < 6 ? 2 : 4, ch.features[i]!)));
    const spatial = g.scaled(g.mean('feat_6', [1]), 0.3);
    const global = g.scaled(g.sum(FEATURES.map((name) => g.mean(name))), 0.2);
    g.op('Add', [g.op('Add', [image, spatial]), global], {}, 'image');
  }
  g.output('image', 'float32', dims(size, 4, 3));
  return g;
}

export const flowGraph = (size: LrSize): Uint8Array => encode(flowPart(size), 'flow');
export const warpEncodeGraph = (size: LrSize, ch: InterfaceChannels): Uint8Array => encode(warpEncodePart(size, ch), 'warp_encode');
export const controlnetGraph = (size: LrSize, ch: InterfaceChannels): Uint8Array => encode(controlnetPart(size, ch), 'controlnet');
export const unetGraph = (size: LrSize, ch: InterfaceChannels): Uint8Array => encode(unetPart(size, ch), 'unet');
export const unetStepGraph = (size: LrSize, ch: InterfaceChannels): Uint8Array => encode(unetStepPart(size, ch), 'unet_step');
export const decoderGraph = (size: LrSize, ch: InterfaceChannels, temporal: boolean): Uint8Array => encode(decoderPart(size, ch, temporal), temporal ? 'tae_decode_temporal' : 'tae_decode');
