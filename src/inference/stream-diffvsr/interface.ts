/**
 * The tensor interface of the exported graphs (spec §2.1): names, and the shapes that follow from
 * the LR size h × w. The runtime checks every session against it when it opens, so an export that
 * does not fit fails at start-up naming the graph and the tensor, not in the middle of a stream.
 */
import type { GraphName } from './export-manifest.js';

export const FEATURES = Array.from({ length: 7 }, (_, i) => `feat_${i}`);
export const DOWN_RESIDUALS = Array.from({ length: 12 }, (_, i) => `down_res_${i}`);
export const RESIDUALS = [...DOWN_RESIDUALS, 'mid_res'];
/** Resolution level (0 = latent size, each level halves with ceil) of each residual, mid last. */
export const RESIDUAL_LEVELS = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3];

/** The per-frame graphs: the frame, its noise and schedule in; the unclamped HR and the 8-bit frame (as uint8 and as level/255) out. */
const FRAME_INPUTS = ['lr', 'noise', 'timesteps', 'step_coefficients'];
const FRAME_OUTPUTS = ['hr', 'frame', 'levels'];
const DENOISER_INPUTS = ['latents', 'lr_image', 'timestep', 'encoder_hidden_states'];

export const GRAPH_IO: Readonly<Record<GraphName, { readonly inputs: readonly string[]; readonly outputs: readonly string[] }>> = {
  flow: { inputs: ['cur_lr', 'prev_lr'], outputs: ['flow'] },
  warp_encode: { inputs: ['prev_hr', 'flow'], outputs: ['warped_prev_hr', ...FEATURES] },
  controlnet: { inputs: [...DENOISER_INPUTS, 'warped_prev_hr'], outputs: RESIDUALS },
  unet: { inputs: [...DENOISER_INPUTS, ...RESIDUALS], outputs: ['model_output'] },
  unet_step: { inputs: [...DENOISER_INPUTS, 'warped_prev_hr', 'controlnet_scale'], outputs: ['model_output'] },
  tae_decode: { inputs: ['latents'], outputs: ['image'] },
  tae_decode_temporal: { inputs: ['latents', ...FEATURES], outputs: ['image'] },
  frame_first: { inputs: FRAME_INPUTS, outputs: FRAME_OUTPUTS },
  frame_history: { inputs: ['prev_lr', 'prev_hr', ...FRAME_INPUTS], outputs: FRAME_OUTPUTS },
};

/** [h, w] at levels 0..3: stride-2, pad-1 convolutions give ceil(side / 2). */
export function levelSides(h: number, w: number): Array<[number, number]> {
  const sides: Array<[number, number]> = [[h, w]];
  for (let i = 1; i < 4; i++) {
    const [ph, pw] = sides[i - 1]!;
    sides.push([Math.ceil(ph / 2), Math.ceil(pw / 2)]);
  }
  return sides;
}

/** Spatial shape of each temporal feature: three at h × w, three at 2h × 2w, one at 4h × 4w. */
export function featureSides(h: number, w: number): Array<[number, number]> {
  return FEATURES.map((_, i) => (i < 3 ? [h, w] : i < 6 ? [2 * h, 2 * w] : [4 * h, 4 * w]));
}

/**
 * Shapes the runtime feeds, for the inputs whose shape it decides (channel counts of residuals and
 * features come from the graphs, so they are left as -1 here).
 */
export function inputShapes(h: number, w: number, textShape: readonly number[], latentChannels = 4): Record<string, number[]> {
  const shapes: Record<string, number[]> = {
    cur_lr: [1, 3, h, w],
    prev_lr: [1, 3, h, w],
    prev_hr: [1, 3, 4 * h, 4 * w],
    flow: [1, 2, 4 * h, 4 * w],
    latents: [1, latentChannels, h, w],
    lr_image: [1, 3, h, w],
    timestep: [1],
    encoder_hidden_states: [...textShape],
    warped_prev_hr: [1, 3, 4 * h, 4 * w],
    controlnet_scale: [1],
    lr: [1, 3, h, w],
    noise: [1, latentChannels, h, w],
    timesteps: [-1],
    step_coefficients: [-1, 4],
  };
  const levels = levelSides(h, w);
  RESIDUALS.forEach((name, i) => (shapes[name] = [1, -1, ...levels[RESIDUAL_LEVELS[i]!]!]));
  featureSides(h, w).forEach((side, i) => (shapes[FEATURES[i]!] = [1, -1, ...side]));
  return shapes;
}
