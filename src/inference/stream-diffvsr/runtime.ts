/**
 * Stream-DiffVSR as an SrModel: the streaming form of the reference pipeline (spec §1.8). State is
 * one previous normalised LR frame and one previous unclamped HR output, so memory stays constant
 * and the first output comes after one frame. History is dropped, and the frame takes the
 * first-frame path, at the start, after a discontinuity or size change (the superResolve operator,
 * which holds the state between frames, then passes none) and at a scene cut (mean absolute LR difference above the
 * reset threshold).
 */
import { readFile } from 'node:fs/promises';
import type { Frame, PixelLayout, VideoInfo } from '../../core/frame.js';
import { rgbOf, rgbPixels, scaledInfo } from '../../core/frame.js';
import { DEFAULTS } from '../../core/defaults.js';
import { UsageError, errorMessage } from '../../core/errors.js';
import { ort } from '../ort.js';
import { planProviders } from '../providers.js';
import type { SessionSettings } from '../session.js';
import type { ModelState, ModelStep, SrModel } from '../sr-model.js';
import { Denoiser } from './denoise.js';
import { EXPORT_HELP, type DiffVsrExport, type FrameGraphs, type GraphFile, type GraphName } from './export-manifest.js';
import { FrameGraphRunner, graphHash, type FrameGraphState } from './frame-graph.js';
import { planGraphTensorRt } from '../tensorrt.js';
import { GraphSet, type RunHook } from './graph-set.js';
import { seededNoise, type NoiseSource } from './noise.js';
import { PrefetchedNoise } from './noise-prefetch.js';
import { quantiseToFrame } from './quantise.js';
import { meanAbsDifference, normaliseLr } from './scene-cut.js';
import { scheduleFor, type Schedule } from './scheduler.js';

export interface DiffVsrOptions {
  /** Denoising steps; the distilled count (the manifest's) unless given. */
  readonly steps?: number;
  readonly seed?: number;
  /** Mean absolute LR difference (0..1) above which the history is dropped. */
  readonly resetThreshold?: number;
  /** Replaces the seeded generator (parity tests inject the reference's noise). */
  readonly noise?: NoiseSource;
  /** Forces the timesteps (experiments); ᾱ then comes from the scheduler table. */
  readonly timesteps?: readonly number[];
  /** unet_step instead of controlnet → unet; default: fused on GPU devices when exported. */
  readonly fused?: boolean;
  /**
   * The per-frame graph (one session run per frame) instead of the separate graphs; default: used
   * whenever the export has one for the step count (faster on the CPU too, see the README).
   */
  readonly frameGraph?: boolean;
  /**
   * Per-frame graph: have ONNX Runtime write its outputs into tensors allocated once (session.run
   * with fetches). Off by default: onnxruntime-node 1.30 then copies each output into a fresh
   * ArrayBuffer anyway, which measured slower (README).
   */
  readonly preallocatedOutputs?: boolean;
  /** Per-frame graph: draw the seeded noise one frame ahead on a worker thread (default true). */
  readonly prefetchNoise?: boolean;
  readonly onRun?: RunHook;
  /** Which path each frame took and why (tests, --verbose). */
  readonly onFrame?: (trace: FrameTrace) => void;
}

export type FramePath = 'first' | 'history';
export interface FrameTrace {
  readonly index: number;
  readonly path: FramePath;
  /** Why a frame took the first-frame path: start, discontinuity, size change, scene cut. */
  readonly reason?: string;
  readonly difference?: number;
}

/** What a frame leaves for the next (the pipeline holds it): its normalised LR and unclamped HR. */
interface State {
  readonly lr: Float32Array;
  /** The unclamped HR output; null on the per-frame path, whose `frame` state holds it as a tensor. */
  readonly hr: Float32Array | null;
  readonly width: number;
  readonly height: number;
  /** The per-frame graph's buffers and HR tensor. */
  readonly frame?: FrameGraphState;
}

/** How frames are computed: the separate graphs with the TypeScript scheduler, or one per-frame graph. */
type Engine = { readonly kind: 'separate'; readonly denoiser: Denoiser } | { readonly kind: 'frame'; readonly runner: FrameGraphRunner };

export class StreamDiffVsrModel implements SrModel {
  readonly id = 'stream-diffvsr';
  readonly scale = 4;
  readonly usesHistory = true;
  readonly layouts: readonly PixelLayout[] = ['rgb-float'];
  /** Noise draws so far: the seeded generator's position, not history (a reset keeps counting). */
  private draws = 0;

  private constructor(
    private readonly exp: DiffVsrExport,
    private readonly graphs: GraphSet,
    private readonly engine: Engine,
    private readonly resetThreshold: number,
    private readonly settings: SessionSettings,
    private readonly onFrame?: (trace: FrameTrace) => void,
    private readonly noise?: NoiseSource,
  ) {}

  static async load(exp: DiffVsrExport, scale: number, settings: SessionSettings, options: DiffVsrOptions = {}): Promise<StreamDiffVsrModel> {
    if (scale !== exp.scale) throw new UsageError(`model stream-diffvsr upscales x${exp.scale} only; --scale ${scale} is not available`);
    const threshold = options.resetThreshold ?? DEFAULTS.resetThreshold;
    if (!(threshold >= 0)) throw new UsageError(`--reset-threshold ${threshold}: must be a number from 0 (drop history on any change) up; 1 never drops it`);
    const schedule = pickSchedule(exp, options, settings);
    const fp16 = wantFp16(exp, settings);
    const perFrame = pickFrameGraphs(exp, options, schedule.timesteps.length);
    const seed = options.seed ?? DEFAULTS.seed;
    // the per-frame path draws the next frame's noise on a worker thread while the session runs
    const noise = options.noise ?? (perFrame && options.prefetchNoise !== false ? new PrefetchedNoise(seed, (m) => settings.log.verbose(m)) : seededNoise(seed));
    if (perFrame) {
      const entries = { frame_first: perFrame.first, frame_history: perFrame.history };
      const graphs = new GraphSet(exp, ['frame_first', 'frame_history'], settings, fp16, options.onRun, entries, tensorRtEnv(settings, perFrame.steps, exp.latentChannels));
      const runner = new FrameGraphRunner(graphs, schedule, noise, exp.latentChannels, options.preallocatedOutputs ?? false);
      return new StreamDiffVsrModel(exp, graphs, { kind: 'frame', runner }, threshold, settings, options.onFrame, noise);
    }
    const fused = pickFused(exp, options, settings);
    const names: GraphName[] = ['flow', 'warp_encode', ...(fused ? (['unet_step'] as const) : (['controlnet', 'unet'] as const)), 'tae_decode', 'tae_decode_temporal'];
    // the separate graphs hand each other about 1 GB a frame through JavaScript (latents, residuals,
    // features): always on the main thread, which then blocks for the frame, because crossing to
    // ONNX Runtime's own thread would copy all of it (make bench-diffvsr: 535 → 930 ms a frame)
    const graphs = new GraphSet(exp, names, { ...settings, thread: 'main' }, fp16, options.onRun);
    const denoiser = new Denoiser(graphs, {
      schedule,
      textEmbedding: await readTextEmbedding(exp),
      noise,
      fused,
      conditioningScale: 1,
      latentChannels: exp.latentChannels,
    });
    return new StreamDiffVsrModel(exp, graphs, { kind: 'separate', denoiser }, threshold, settings, options.onFrame);
  }

  async configure(input: VideoInfo, _layout: PixelLayout = 'rgb-float'): Promise<VideoInfo> {
    this.checkSize(input.width, input.height);
    const fixed = this.settings.fixedInputShape;
    if (fixed && planProviders(this.settings.device.device).providers[0] === 'tensorrt' && (fixed.width !== input.width || fixed.height !== input.height)) {
      throw new UsageError(`model stream-diffvsr: the input is ${input.width}x${input.height} but the TensorRT engines are built for --image-width ${fixed.width} --image-height ${fixed.height}`);
    }
    await this.graphs.prepare(input.height, input.width);
    if (this.engine.kind === 'frame') this.engine.runner.checkSteps();
    this.settings.log.verbose(`stream-diffvsr: ${this.exp.dir} on ${this.graphs.providers()}, graphs ${this.graphs.names.join(', ')}`);
    return scaledInfo(input, this.scale);
  }

  /** `state`: the previous frame's normalised LR and unclamped HR, as this method returned them. */
  async upscale(current: Frame, state: ModelState | undefined): Promise<ModelStep> {
    const { width, height } = current.info;
    this.checkSize(width, height);
    await this.graphs.prepare(height, width);
    const engine = this.engine;
    const previous = state as State | undefined;
    const slot = engine.kind === 'frame' ? engine.runner.slot(previous?.frame, height, width) : undefined;
    const lr = normaliseLr(rgbOf(current), slot ? (slot.lr[slot.current].data as Float32Array) : undefined);
    const { history, trace } = this.historyFor(current, previous, lr);
    this.onFrame?.(trace);
    if (trace.reason && trace.reason !== 'start') this.settings.log.verbose(`frame ${current.index}: ${trace.reason}${trace.difference !== undefined ? ` (mean LR difference ${trace.difference.toFixed(3)})` : ''}, history dropped`);
    const stage = `frame ${current.index}`;
    if (engine.kind === 'frame') {
      const out = await engine.runner.frame(height, width, slot!, history?.frame, this.draws++, stage);
      return { pixels: rgbPixels(out.levels), state: { lr, hr: null, width, height, frame: out.state } satisfies State };
    }
    const hr = await engine.denoiser.frame(lr, height, width, history && { lr: history.lr, hr: history.hr! }, this.draws++, stage);
    return { pixels: rgbPixels(quantiseToFrame(hr)), state: { lr, hr, width, height } satisfies State };
  }

  async dispose(): Promise<void> {
    this.noise?.close?.();
    await this.graphs.release();
  }

  /** No state: the first frame, or the pipeline reset history (discontinuity, size change, fallback). */
  private historyFor(current: Frame, s: State | undefined, lr: Float32Array): { history: State | null; trace: FrameTrace } {
    const first = (reason: string, difference?: number) => ({ history: null, trace: { index: current.index, path: 'first' as const, reason, ...(difference !== undefined ? { difference } : {}) } });
    if (!s) return first(current.discontinuity ? 'discontinuity' : this.draws === 0 ? 'start' : 'history reset');
    if (s.width !== current.info.width || s.height !== current.info.height) return first('size change');
    const difference = meanAbsDifference(lr, s.lr);
    if (difference > this.resetThreshold) return first('scene cut', difference);
    return { history: s, trace: { index: current.index, path: 'history', difference } };
  }

  private checkSize(width: number, height: number): void {
    const { lrMultiple: m, minLrSide: min } = this.exp;
    if (width % m || height % m || width < min || height < min) {
      throw new UsageError(
        `model stream-diffvsr needs input frames whose sides are multiples of ${m} and at least ${min} (the optical flow needs HR sides of ${4 * min}); the input is ${width}x${height}: ` +
          `resize it first, e.g. ffmpeg -vf scale=${Math.max(min, width - (width % m))}:${Math.max(min, height - (height % m))}`,
      );
    }
  }
}

function pickSchedule(exp: DiffVsrExport, options: DiffVsrOptions, settings: SessionSettings): Schedule {
  const distilled = exp.scheduler.numInferenceSteps;
  const steps = options.timesteps?.length ?? options.steps ?? distilled;
  if (!Number.isInteger(steps) || steps < 1) throw new UsageError(`--steps ${steps}: must be a whole number of at least 1`);
  if (steps !== distilled) settings.log.warn(`stream-diffvsr was distilled for ${distilled} denoising steps; running ${steps} changes the result and is not what it was trained for`);
  try {
    return scheduleFor(exp.scheduler, steps, options.timesteps);
  } catch (err) {
    throw new UsageError(`--steps ${steps}: ${errorMessage(err)}`);
  }
}

/** The per-frame graphs for this step count, when they are to be used. */
function pickFrameGraphs(exp: DiffVsrExport, options: DiffVsrOptions, steps: number): FrameGraphs | undefined {
  const found = exp.frameGraphs.find((f) => f.steps === steps);
  if (options.frameGraph === false) return undefined;
  if (options.frameGraph === true && !found) {
    const have = exp.frameGraphs.map((f) => f.steps).join(', ');
    throw new UsageError(`the export ${exp.dir} has no per-frame graph for ${steps} steps (${have ? `it has them for ${have}` : 'it has none'}; export with --steps ${steps}, ${EXPORT_HELP})`);
  }
  // explicit choices of the separate graphs' form keep the separate graphs
  if (options.frameGraph === undefined && options.fused !== undefined) return undefined;
  return found;
}

/** With TensorRT: each per-frame graph's engine cache keyed by its hash, and one fixed profile with --image-height/--image-width. */
function tensorRtEnv(settings: SessionSettings, steps: number, latentChannels: number) {
  return async (name: GraphName, file: GraphFile): Promise<Readonly<Record<string, string>>> => {
    if (planProviders(settings.device.device).providers[0] !== 'tensorrt') return {};
    const fixed = settings.fixedInputShape;
    let shapes: Record<string, number[]> | undefined;
    if (fixed) {
      const { height: h, width: w } = fixed;
      shapes = { lr: [1, 3, h, w], ...(name === 'frame_history' ? { prev_lr: [1, 3, h, w], prev_hr: [1, 3, 4 * h, 4 * w] } : {}), noise: [1, latentChannels, h, w], timesteps: [steps], step_coefficients: [steps, 4] };
    }
    const plan = planGraphTensorRt(`stream-diffvsr-${name}-${steps}steps`, await graphHash(file.file, file.externalData), shapes, settings);
    if (plan.firstBuild) settings.log.info(`TensorRT: building an engine for ${plan.describe} into ${plan.cacheDir}; the first run takes minutes, later runs load it from there`);
    else settings.log.verbose(`TensorRT: using the cached engine in ${plan.cacheDir}`);
    return plan.env;
  };
}

function pickFused(exp: DiffVsrExport, options: DiffVsrOptions, settings: SessionSettings): boolean {
  const hasFused = Boolean(exp.graphs.unet_step);
  const hasPair = Boolean(exp.graphs.unet && exp.graphs.controlnet);
  if (options.fused === true && !hasFused) throw new UsageError(`the export ${exp.dir} has no unet_step graph (export it with --fused-unet-step; ${EXPORT_HELP})`);
  if (options.fused === false && !hasPair) throw new UsageError(`the export ${exp.dir} has only the fused unet_step graph`);
  if (options.fused !== undefined) return options.fused;
  // On a GPU the fused graph keeps the 13 ControlNet residuals (~290 MB per step at 720p) on the device.
  const onGpu = planProviders(settings.device.device).providers[0] !== 'cpu';
  return hasFused && (onGpu || !hasPair);
}

function wantFp16(exp: DiffVsrExport, settings: SessionSettings): boolean {
  if (!settings.fp16) return false;
  if (planProviders(settings.device.device).providers[0] === 'cpu') {
    settings.log.warn('--fp16 applies to GPU execution providers; the CPU runs the float32 graphs');
    return false;
  }
  if (!Object.values(exp.graphs).some((g) => g.fp16 || Object.values(g.profileFiles).some((f) => f.fp16))) {
    settings.log.warn(`--fp16: the export ${exp.dir} has no half-precision graphs (export with --fp16); running float32`);
    return false;
  }
  return true;
}

async function readTextEmbedding(exp: DiffVsrExport) {
  const { file, shape } = exp.textEmbedding;
  const bytes = await readFile(file);
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== 4 * count) throw new UsageError(`Stream-DiffVSR export: ${file} holds ${bytes.byteLength} bytes, shape [${shape.join(',')}] float32 needs ${4 * count}; ${EXPORT_HELP}`);
  const data = new Float32Array(count);
  new Uint8Array(data.buffer).set(bytes);
  return new (ort().Tensor)('float32', data, shape);
}
