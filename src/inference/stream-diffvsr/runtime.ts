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
import { Denoiser, type History } from './denoise.js';
import { EXPORT_HELP, type DiffVsrExport, type GraphName } from './export-manifest.js';
import { GraphSet, type RunHook } from './graph-set.js';
import { seededNoise, type NoiseSource } from './noise.js';
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

interface State extends History {
  readonly width: number;
  readonly height: number;
}

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
    private readonly denoiser: Denoiser,
    private readonly resetThreshold: number,
    private readonly settings: SessionSettings,
    private readonly onFrame?: (trace: FrameTrace) => void,
  ) {}

  static async load(exp: DiffVsrExport, scale: number, settings: SessionSettings, options: DiffVsrOptions = {}): Promise<StreamDiffVsrModel> {
    if (scale !== exp.scale) throw new UsageError(`model stream-diffvsr upscales x${exp.scale} only; --scale ${scale} is not available`);
    const threshold = options.resetThreshold ?? DEFAULTS.resetThreshold;
    if (!(threshold >= 0)) throw new UsageError(`--reset-threshold ${threshold}: must be a number from 0 (drop history on any change) up; 1 never drops it`);
    const schedule = pickSchedule(exp, options, settings);
    const fused = pickFused(exp, options, settings);
    const names: GraphName[] = ['flow', 'warp_encode', ...(fused ? (['unet_step'] as const) : (['controlnet', 'unet'] as const)), 'tae_decode', 'tae_decode_temporal'];
    const graphs = new GraphSet(exp, names, settings, wantFp16(exp, settings), options.onRun);
    const denoiser = new Denoiser(graphs, {
      schedule,
      textEmbedding: await readTextEmbedding(exp),
      noise: options.noise ?? seededNoise(options.seed ?? DEFAULTS.seed),
      fused,
      conditioningScale: 1,
      latentChannels: exp.latentChannels,
    });
    return new StreamDiffVsrModel(exp, graphs, denoiser, threshold, settings, options.onFrame);
  }

  async configure(input: VideoInfo, _layout: PixelLayout = 'rgb-float'): Promise<VideoInfo> {
    this.checkSize(input.width, input.height);
    await this.graphs.prepare(input.height, input.width);
    this.settings.log.verbose(`stream-diffvsr: ${this.exp.dir} on ${this.graphs.providers()}, graphs ${this.graphs.names.join(', ')}`);
    return scaledInfo(input, this.scale);
  }

  /** `state`: the previous frame's normalised LR and unclamped HR, as this method returned them. */
  async upscale(current: Frame, state: ModelState | undefined): Promise<ModelStep> {
    const { width, height } = current.info;
    this.checkSize(width, height);
    await this.graphs.prepare(height, width);
    const lr = normaliseLr(rgbOf(current));
    const { history, trace } = this.historyFor(current, state as State | undefined, lr);
    this.onFrame?.(trace);
    if (trace.reason && trace.reason !== 'start') this.settings.log.verbose(`frame ${current.index}: ${trace.reason}${trace.difference !== undefined ? ` (mean LR difference ${trace.difference.toFixed(3)})` : ''}, history dropped`);
    const hr = await this.denoiser.frame(lr, height, width, history, this.draws++, `frame ${current.index}`);
    return { pixels: rgbPixels(quantiseToFrame(hr)), state: { lr, hr, width, height } satisfies State };
  }

  async dispose(): Promise<void> {
    await this.graphs.release();
  }

  /** No state: the first frame, or the pipeline reset history (discontinuity, size change, fallback). */
  private historyFor(current: Frame, s: State | undefined, lr: Float32Array): { history: History | null; trace: FrameTrace } {
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
