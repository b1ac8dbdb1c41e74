/**
 * The per-frame algorithm of spec §1.8 over an open GraphSet: flow, warp and temporal features
 * from the second frame on, four DDIM v-prediction steps (ControlNet skipped on the first frame),
 * then the plain or temporal decoder. Returns the decoder's unclamped HR output.
 */
import { InferenceError } from '../../core/errors.js';
import { ort, type Ort } from '../ort.js';
import { describeShape } from '../session.js';
import type { GraphSet } from './graph-set.js';
import { FEATURES, RESIDUALS, RESIDUAL_LEVELS, levelSides } from './interface.js';
import type { NoiseSource } from './noise.js';
import { ddimStep, stepCoefficients, type Schedule, type StepCoefficients } from './scheduler.js';

/** The state one frame hands to the next: the normalised LR and the unclamped HR output. */
export interface History {
  readonly lr: Float32Array;
  readonly hr: Float32Array;
}

export interface DenoiserSettings {
  readonly schedule: Schedule;
  /** The constant empty-prompt embedding, one tensor fed to every denoiser call. */
  readonly textEmbedding: Ort.Tensor;
  readonly noise: NoiseSource;
  /** Use the fused ControlNet+UNet graph (unet_step) instead of the controlnet → unet pair. */
  readonly fused: boolean;
  readonly conditioningScale: number;
  readonly latentChannels: number;
}

function tensor(data: Float32Array, dims: readonly number[]): Ort.Tensor {
  return new (ort().Tensor)('float32', data, dims);
}

export class Denoiser {
  private readonly coefficients: StepCoefficients[];
  private readonly timesteps: Ort.Tensor[];
  /** All-zero inputs for the first frame: views of one buffer, allocated on first use per size. */
  private zeros?: { key: string; residuals: Record<string, Ort.Tensor>; warped: Ort.Tensor; off: Ort.Tensor; on: Ort.Tensor };

  constructor(
    private readonly graphs: GraphSet,
    private readonly s: DenoiserSettings,
  ) {
    const { schedule } = s;
    this.coefficients = schedule.timesteps.map((_, i) => stepCoefficients(schedule.alphaT[i]!, schedule.alphaPrev[i]!));
    this.timesteps = schedule.timesteps.map((t) => tensor(Float32Array.of(t), [1]));
  }

  /** Denoises LR frame `lr` (1,3,h,w in [-1,1]); `history` null takes the first-frame path. */
  async frame(lr: Float32Array, h: number, w: number, history: History | null, drawIndex: number, stage: string): Promise<Float32Array> {
    const lrTensor = tensor(lr, [1, 3, h, w]);
    const guide = history ? await this.temporalGuide(lrTensor, history, h, w, stage) : null;
    const z = new Float32Array(this.s.latentChannels * h * w);
    this.s.noise.fill(drawIndex, z);
    for (let i = 0; i < this.coefficients.length; i++) {
      const feeds = { latents: tensor(z, [1, this.s.latentChannels, h, w]), lr_image: lrTensor, timestep: this.timesteps[i]!, encoder_hidden_states: this.s.textEmbedding };
      const v = await this.predict(feeds, guide, h, w, `${stage}, step ${i + 1}/${this.coefficients.length}`);
      ddimStep(z, v, this.coefficients[i]!);
    }
    const latents = tensor(z, [1, this.s.latentChannels, h, w]);
    const decoded = guide
      ? await this.graphs.run('tae_decode_temporal', { latents, ...guide.features }, stage)
      : await this.graphs.run('tae_decode', { latents }, stage);
    return output(decoded, 'image', [1, 3, 4 * h, 4 * w], stage);
  }

  /** Flow between the bicubic-upscaled LR frames, the warped previous HR and its encoder features. */
  private async temporalGuide(lr: Ort.Tensor, history: History, h: number, w: number, stage: string) {
    const flowOut = await this.graphs.run('flow', { cur_lr: lr, prev_lr: tensor(history.lr, [1, 3, h, w]) }, stage);
    const flow = flowOut.flow!;
    expectDims(flow, 'flow', [1, 2, 4 * h, 4 * w], stage);
    const warp = await this.graphs.run('warp_encode', { prev_hr: tensor(history.hr, [1, 3, 4 * h, 4 * w]), flow }, stage);
    const features: Record<string, Ort.Tensor> = {};
    for (const name of FEATURES) features[name] = warp[name]!;
    return { warped: warp.warped_prev_hr!, features };
  }

  private async predict(feeds: Record<string, Ort.Tensor>, guide: { warped: Ort.Tensor } | null, h: number, w: number, stage: string): Promise<Float32Array> {
    let out: Record<string, Ort.Tensor>;
    if (this.s.fused) {
      const zeros = this.zeroInputs(h, w);
      out = await this.graphs.run('unet_step', { ...feeds, warped_prev_hr: guide?.warped ?? zeros.warped, controlnet_scale: guide ? zeros.on : zeros.off }, stage);
    } else {
      const residuals = guide ? await this.graphs.run('controlnet', { ...feeds, warped_prev_hr: guide.warped }, stage) : this.zeroInputs(h, w).residuals;
      const unetFeeds: Record<string, Ort.Tensor> = { ...feeds };
      for (const name of RESIDUALS) unetFeeds[name] = residuals[name]!;
      out = await this.graphs.run('unet', unetFeeds, stage);
    }
    return output(out, 'model_output', [1, this.s.latentChannels, h, w], stage);
  }

  private zeroInputs(h: number, w: number) {
    const key = `${h}x${w}`;
    if (this.zeros?.key === key) return this.zeros;
    const levels = levelSides(h, w);
    const shapes = this.s.fused ? [] : RESIDUALS.map((name, i) => [1, this.graphs.channels('unet', name), ...levels[RESIDUAL_LEVELS[i]!]!]);
    const warpedDims = [1, 3, 4 * h, 4 * w];
    const size = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);
    const buffer = new Float32Array(Math.max(size(warpedDims), ...shapes.map(size)));
    const residuals: Record<string, Ort.Tensor> = {};
    shapes.forEach((dims, i) => (residuals[RESIDUALS[i]!] = tensor(buffer.subarray(0, size(dims)), dims)));
    this.zeros = { key, residuals, warped: tensor(buffer.subarray(0, size(warpedDims)), warpedDims), off: tensor(Float32Array.of(0), [1]), on: tensor(Float32Array.of(this.s.conditioningScale), [1]) };
    return this.zeros;
  }
}

function expectDims(t: Ort.Tensor | undefined, name: string, dims: readonly number[], stage: string): asserts t is Ort.Tensor {
  if (!t || t.type !== 'float32' || t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) {
    throw new InferenceError(`model stream-diffvsr (${stage}): output '${name}' is ${t ? `${t.type}${describeShape(t.dims)}` : 'missing'}, expected float32${describeShape(dims)}`);
  }
}

function output(out: Record<string, Ort.Tensor>, name: string, dims: readonly number[], stage: string): Float32Array {
  const t = out[name];
  expectDims(t, name, dims, stage);
  return t.data as Float32Array;
}
