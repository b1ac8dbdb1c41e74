/**
 * DDIM with v-prediction and η = 0, as diffusers 0.27.2's DDIMScheduler runs it in float32:
 * every product and sum is rounded to float32 (Math.fround after each double operation gives the
 * correctly rounded float32 result), so the steps match the reference bit for bit given the same ᾱ.
 */
import { roundHalfEven } from './quantise.js';

export type TimestepSpacing = 'trailing' | 'leading' | 'linspace';

/** The manifest's `scheduler` block (the checkpoint's config, resolved by the exporter). */
export interface SchedulerConfig {
  readonly numTrainTimesteps: number;
  readonly betaStart: number;
  readonly betaEnd: number;
  readonly betaSchedule: 'scaled_linear' | 'linear';
  readonly timestepSpacing: TimestepSpacing;
  readonly stepsOffset: number;
  readonly setAlphaToOne: boolean;
  readonly numInferenceSteps: number;
  /** As exported for `numInferenceSteps` (float32 values of the reference scheduler). */
  readonly timesteps: readonly number[];
  readonly alphasCumprodT: readonly number[];
  readonly alphasCumprodPrev: readonly number[];
  readonly finalAlphaCumprod: number;
  /** The whole float32 ᾱ table of the checkpoint's scheduler, when the exporter wrote it. */
  readonly alphasCumprod?: readonly number[];
}

/** Timesteps, and ᾱ at each and at the one after it, for one denoising run. */
export interface Schedule {
  readonly timesteps: readonly number[];
  readonly alphaT: readonly number[];
  readonly alphaPrev: readonly number[];
}

/**
 * diffusers' set_timesteps for the three spacings, with numpy's arange/linspace arithmetic and
 * half-to-even rounding (the stride used for prev_t is ⌊train/S⌋ throughout).
 */
export function ddimTimesteps(spacing: TimestepSpacing, steps: number, train = 1000, offset = 1): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > train) throw new RangeError(`denoising steps must be 1..${train}, got ${steps}`);
  const out: number[] = [];
  if (spacing === 'trailing') {
    const ratio = train / steps;
    const count = Math.ceil(train / ratio);
    for (let i = 0; i < count; i++) out.push(roundHalfEven(train - i * ratio) - 1);
    return out;
  }
  if (spacing === 'leading') {
    const ratio = Math.floor(train / steps);
    for (let i = steps - 1; i >= 0; i--) out.push(i * ratio + offset);
    return out;
  }
  const step = steps === 1 ? 0 : (train - 1) / (steps - 1);
  for (let i = steps - 1; i >= 0; i--) out.push(roundHalfEven(i === steps - 1 && steps > 1 ? train - 1 : i * step));
  return out;
}

/** ᾱ table recomputed in double precision (within ~1e-6 relative of the float32 reference). */
export function alphasCumprod(config: Pick<SchedulerConfig, 'numTrainTimesteps' | 'betaStart' | 'betaEnd' | 'betaSchedule'>): Float64Array {
  const n = config.numTrainTimesteps;
  const out = new Float64Array(n);
  let product = 1;
  for (let i = 0; i < n; i++) {
    const f = n === 1 ? 0 : i / (n - 1);
    const beta =
      config.betaSchedule === 'scaled_linear'
        ? (Math.sqrt(config.betaStart) + f * (Math.sqrt(config.betaEnd) - Math.sqrt(config.betaStart))) ** 2
        : config.betaStart + f * (config.betaEnd - config.betaStart);
    product *= 1 - beta;
    out[i] = product;
  }
  return out;
}

/**
 * The schedule for `steps` steps: the exported one when steps match (and no timesteps are
 * forced), else recomputed from the config, with ᾱ from the exported table when present.
 */
export function scheduleFor(config: SchedulerConfig, steps = config.numInferenceSteps, forced?: readonly number[]): Schedule {
  if (!forced && steps === config.numInferenceSteps) {
    return { timesteps: config.timesteps, alphaT: config.alphasCumprodT, alphaPrev: config.alphasCumprodPrev };
  }
  const timesteps = forced ?? ddimTimesteps(config.timestepSpacing, steps, config.numTrainTimesteps, config.stepsOffset);
  const table = config.alphasCumprod ?? Array.from(alphasCumprod(config), (v) => Math.fround(v));
  const stride = Math.floor(config.numTrainTimesteps / timesteps.length);
  const final = config.setAlphaToOne ? 1 : config.finalAlphaCumprod;
  const at = (t: number): number => {
    const v = table[t];
    if (v === undefined) throw new RangeError(`timestep ${t} is outside the scheduler's 0..${table.length - 1}`);
    return v;
  };
  return {
    timesteps,
    alphaT: timesteps.map(at),
    alphaPrev: timesteps.map((t) => (t - stride >= 0 ? at(t - stride) : final)),
  };
}

/** Per-step coefficients, in float32 as torch computes `ᾱ**0.5` and `(1-ᾱ)**0.5`. */
export interface StepCoefficients {
  readonly sqrtAlpha: number;
  readonly sqrtOneMinusAlpha: number;
  readonly sqrtAlphaPrev: number;
  readonly sqrtOneMinusAlphaPrev: number;
}

export function stepCoefficients(alphaT: number, alphaPrev: number): StepCoefficients {
  const f = Math.fround;
  const a = f(alphaT);
  const p = f(alphaPrev);
  return {
    sqrtAlpha: f(Math.sqrt(a)),
    sqrtOneMinusAlpha: f(Math.sqrt(f(1 - a))),
    sqrtAlphaPrev: f(Math.sqrt(p)),
    sqrtOneMinusAlphaPrev: f(Math.sqrt(f(1 - p))),
  };
}

/**
 * One DDIM step in place on the 4-channel latents `z` (never the 7-channel UNet input):
 * x0 = √ᾱ·z − √(1−ᾱ)·v, ε = √ᾱ·v + √(1−ᾱ)·z, z ← √ᾱ_prev·x0 + √(1−ᾱ_prev)·ε. No clipping.
 */
export function ddimStep(z: Float32Array, v: Float32Array, c: StepCoefficients, x0Out?: Float32Array): void {
  if (v.length !== z.length) throw new RangeError(`model output holds ${v.length} values, the latents ${z.length}`);
  const f = Math.fround;
  const { sqrtAlpha: sa, sqrtOneMinusAlpha: sb, sqrtAlphaPrev: sp, sqrtOneMinusAlphaPrev: sd } = c;
  for (let i = 0; i < z.length; i++) {
    const zi = z[i]!;
    const vi = v[i]!;
    const x0 = f(f(sa * zi) - f(sb * vi));
    const eps = f(f(sa * vi) + f(sb * zi));
    if (x0Out) x0Out[i] = x0;
    z[i] = f(sp * x0) + f(sd * eps);
  }
}
