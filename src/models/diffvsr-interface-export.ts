/**
 * Writes a complete Stream-DiffVSR export folder (manifest.json `stream-diffvsr-onnx/1`, the text
 * embedding, every graph) made of the interface graphs: what export.py writes, minus the weights.
 * Tests and the benchmark run the real runtime on it.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from './build.js';
import { GRAPH_IO } from '../inference/stream-diffvsr/interface.js';
import type { GraphName, PartName } from '../inference/stream-diffvsr/export-manifest.js';
import { frameGraph, type DenoiserForm, type FrameKind } from './diffvsr-frame-graph.js';
import { REAL_CHANNELS, controlnetGraph, decoderGraph, flowGraph, unetGraph, unetStepGraph, warpEncodeGraph, type InterfaceChannels, type LrSize } from './diffvsr-interface-graphs.js';

export interface InterfaceExportOptions {
  /** Static graphs for each LR size [h, w] (one file per size), or symbolic sizes when omitted. */
  readonly sizes?: ReadonlyArray<readonly [number, number]>;
  readonly channels?: InterfaceChannels;
  /** Which denoiser graphs to write (default: both the controlnet → unet pair and unet_step). */
  readonly pair?: boolean;
  readonly fused?: boolean;
  /** Also per-frame graphs (manifest `frame_graphs`) unrolling each of these step counts. */
  readonly frameSteps?: readonly number[];
  /** Which denoiser the per-frame graphs compose (default: unet_step when written, else the pair). */
  readonly frameDenoiser?: DenoiserForm;
}

/** The reference scheduler's float32 constants for 4 trailing steps (spec §1.6). */
export const TRAILING_4 = {
  type: 'ddim',
  prediction_type: 'v_prediction',
  eta: 0,
  init_noise_sigma: 1,
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'scaled_linear',
  timestep_spacing: 'trailing',
  steps_offset: 1,
  set_alpha_to_one: false,
  clip_sample: false,
  num_inference_steps: 4,
  timesteps: [999, 749, 499, 249],
  alphas_cumprod_t: [0.000733411987, 0.0386055075, 0.333187819, 0.821521223],
  alphas_cumprod_prev: [0.0386055075, 0.333187819, 0.821521223, 0.999899983],
  final_alpha_cumprod: 0.999899983,
  timesteps_match_training: true,
};

type Build = (size: LrSize, ch: InterfaceChannels) => Uint8Array;
const BUILDERS: Record<PartName, Build> = {
  flow: (size) => flowGraph(size),
  warp_encode: warpEncodeGraph,
  controlnet: controlnetGraph,
  unet: unetGraph,
  unet_step: unetStepGraph,
  tae_decode: (size, ch) => decoderGraph(size, ch, false),
  tae_decode_temporal: (size, ch) => decoderGraph(size, ch, true),
};

function profileName([h, w]: readonly [number, number]): string {
  return `${w}x${h}`;
}

async function writeGraph(dir: string, name: PartName, sizes: ReadonlyArray<readonly [number, number]>, ch: InterfaceChannels) {
  return writeEntry(dir, name, name, sizes, (size) => BUILDERS[name](size, ch));
}

async function writeEntry(dir: string, name: GraphName, base: string, sizes: ReadonlyArray<readonly [number, number]>, build: (size: LrSize) => Uint8Array) {
  const io = { inputs: GRAPH_IO[name].inputs, outputs: GRAPH_IO[name].outputs, dtype: 'float32' };
  if (!sizes.length) {
    await writeAtomic(join(dir, `${base}.onnx`), build(undefined));
    return { file: `${base}.onnx`, ...io, dynamic: true };
  }
  const profileFiles: Record<string, { file: string }> = {};
  for (const size of sizes) {
    const file = `${base}-${profileName(size)}.onnx`;
    await writeAtomic(join(dir, file), build(size));
    profileFiles[profileName(size)] = { file };
  }
  return { file: Object.values(profileFiles)[0]!.file, ...io, dynamic: false, profile_files: profileFiles };
}

/** A deterministic stand-in for the empty-prompt embedding (values in ±0.1). */
export function interfaceTextEmbedding(shape: readonly number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => 0.1 * Math.sin(i * 0.37));
}

export async function writeInterfaceExport(dir: string, opts: InterfaceExportOptions = {}): Promise<string> {
  const ch = opts.channels ?? REAL_CHANNELS;
  const sizes = opts.sizes ?? [];
  await mkdir(dir, { recursive: true });
  const names: PartName[] = ['flow', 'warp_encode', ...(opts.pair !== false ? (['controlnet', 'unet'] as const) : []), ...(opts.fused !== false ? (['unet_step'] as const) : []), 'tae_decode', 'tae_decode_temporal'];
  const graphs: Record<string, unknown> = {};
  for (const name of names) graphs[name] = await writeGraph(dir, name, sizes, ch);
  const text = interfaceTextEmbedding(ch.textShape);
  await writeAtomic(join(dir, 'empty_prompt_embeds.f32'), new Uint8Array(text.buffer));
  const denoiser: DenoiserForm = opts.frameDenoiser ?? (opts.fused !== false ? 'fused' : 'pair');
  const frameGraphs = [];
  for (const steps of opts.frameSteps ?? []) {
    const entry = (kind: FrameKind) => writeEntry(dir, `frame_${kind}`, `frame_${kind}-${steps}steps`, sizes, (size) => frameGraph(size, ch, { kind, steps, denoiser, textEmbedding: text }));
    frameGraphs.push({ steps, denoiser: denoiser === 'fused' ? 'unet_step' : 'controlnet+unet', first: await entry('first'), history: await entry('history') });
  }
  const manifest = {
    format: 'stream-diffvsr-onnx/1',
    source: { model_id: 'interface-graphs', revision: 'none', exporter_version: 'stream-sr diffvsr-interface-export' },
    scale: 4,
    latent_channels: 4,
    vae_scale_factor: 4,
    profiles: sizes.map((s) => ({ name: profileName(s), lr: [s[0], s[1]], hr: [4 * s[0], 4 * s[1]] })),
    input_constraints: { lr_multiple: 4, min_lr_side: 32 },
    scheduler: TRAILING_4,
    vae: { scaling_factor: 1, shift_factor: 0 },
    controlnet: { conditioning_scale: 1, num_down_residuals: 12 },
    text_embedding: { file: 'empty_prompt_embeds.f32', shape: ch.textShape, dtype: 'float32' },
    noise: { shape: ['1', '4', 'h', 'w'], per_frame: true },
    graphs,
    ...(frameGraphs.length ? { frame_graphs: frameGraphs } : {}),
  };
  const path = join(dir, 'manifest.json');
  await writeAtomic(path, JSON.stringify(manifest, null, 2) + '\n');
  return path;
}
