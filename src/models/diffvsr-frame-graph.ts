/**
 * The per-frame graph of the Stream-DiffVSR interface export: flow, warp and features, the N
 * denoising steps unrolled (ControlNet + UNet, or the fused unet_step), the DDIM arithmetic, the
 * decoder and the 8-bit quantisation, in one ONNX graph made by inlining the per-part interface
 * graphs (src/onnx/inline.ts), so that it computes, node for node, what the runtime computes with
 * the separate graphs and its TypeScript scheduler (spec §1.8). One graph per frame kind: `first`
 * (no history: ControlNet off) and `history` (flow-warped previous output).
 *
 * Inputs:  lr [1,3,h,w] (LR frame normalised to [-1,1]), noise [1,4,h,w] (z_T),
 *          timesteps [S], step_coefficients [S,4] (√ᾱ_t, √(1−ᾱ_t), √ᾱ_prev, √(1−ᾱ_prev) per step,
 *          float32 as the scheduler computes them), and for `history` prev_lr [1,3,h,w] and
 *          prev_hr [1,3,4h,4w] (the previous unclamped output).
 * Outputs: hr [1,3,4h,4w] (unclamped, the next frame's prev_hr),
 *          frame [1,3,4h,4w] uint8 = round_half_even(clamp(hr/2 + 0.5, 0, 1)·255), and
 *          levels [1,3,4h,4w] float32 = frame/255 (the pipeline's planar RGB 0..1, exactly the
 *          values quantise.ts gives); a caller fetches the one it wants.
 * The text embedding is an initializer: it never changes.
 */
import { inlineGraph } from '../onnx/inline.js';
import { RESIDUALS, RESIDUAL_LEVELS } from '../inference/stream-diffvsr/interface.js';
import { InterfaceBuilder, controlnetPart, decoderPart, dims, encode, flowPart, levelShape, unetPart, unetStepPart, warpEncodePart, type InterfaceChannels, type LrSize } from './diffvsr-interface-graphs.js';

export type FrameKind = 'first' | 'history';
export type DenoiserForm = 'pair' | 'fused';

export interface FrameGraphOptions {
  readonly kind: FrameKind;
  readonly steps: number;
  /** controlnet → unet, or unet_step, composed per step. */
  readonly denoiser: DenoiserForm;
  readonly textEmbedding: Float32Array;
}

export function frameGraphPart(size: LrSize, ch: InterfaceChannels, o: FrameGraphOptions): InterfaceBuilder {
  const g = new InterfaceBuilder(`frame_${o.kind}`);
  const S = o.steps;
  g.input('lr', 'float32', dims(size, 1, 3));
  if (o.kind === 'history') {
    g.input('prev_lr', 'float32', dims(size, 1, 3));
    g.input('prev_hr', 'float32', dims(size, 4, 3));
  }
  g.input('noise', 'float32', dims(size, 1, 4));
  g.input('timesteps', 'float32', [S]);
  g.input('step_coefficients', 'float32', [S, 4]);
  const text = g.constant('encoder_hidden_states', 'float32', ch.textShape, o.textEmbedding);

  let guide: { warped: string; features: Record<string, string> } | null = null;
  if (o.kind === 'history') {
    const { flow } = inlineGraph(g, flowPart(size), 'flow/', { cur_lr: 'lr', prev_lr: 'prev_lr' });
    const { warped_prev_hr: warped, ...features } = inlineGraph(g, warpEncodePart(size, ch), 'warp/', { prev_hr: 'prev_hr', flow: flow! });
    guide = { warped: warped!, features };
  }
  const firstFrameInputs = o.kind === 'first' ? zeroGuidance(g, ch, o.denoiser) : null;

  let z = 'noise';
  for (let i = 0; i < S; i++) {
    const timestep = g.op('Gather', ['timesteps', g.ints([i])], { axis: 0 });
    const row = g.op('Gather', ['step_coefficients', g.constant(`row${i}`, 'int64', [], [i])], { axis: 0 });
    const [sa, sb, sp, sd] = [0, 1, 2, 3].map((j) => g.op('Gather', [row, g.constant(`col${i}_${j}`, 'int64', [], [j])], { axis: 0 }));
    const common = { latents: z, lr_image: 'lr', timestep, encoder_hidden_states: text };
    const p = `step${i}/`;
    let v: string;
    if (o.denoiser === 'fused') {
      const extra = guide ? { warped_prev_hr: guide.warped, controlnet_scale: g.scalarVector(1) } : { warped_prev_hr: firstFrameInputs!.warped!, controlnet_scale: g.scalarVector(0) };
      v = inlineGraph(g, unetStepPart(size, ch), `${p}unet_step/`, { ...common, ...extra }).model_output!;
    } else {
      const residuals = guide ? inlineGraph(g, controlnetPart(size, ch), `${p}controlnet/`, { ...common, warped_prev_hr: guide.warped }) : firstFrameInputs!.residuals!;
      v = inlineGraph(g, unetPart(size, ch), `${p}unet/`, { ...common, ...Object.fromEntries(RESIDUALS.map((r) => [r, residuals[r]!])) }).model_output!;
    }
    // DDIM, v-prediction, η = 0 (scheduler.ts ddimStep): x0 = √ᾱ·z − √(1−ᾱ)·v, ε = √ᾱ·v + √(1−ᾱ)·z
    const x0 = g.op('Sub', [g.op('Mul', [sa!, z]), g.op('Mul', [sb!, v])]);
    const eps = g.op('Add', [g.op('Mul', [sa!, v]), g.op('Mul', [sb!, z])]);
    z = g.op('Add', [g.op('Mul', [sp!, x0]), g.op('Mul', [sd!, eps])]);
  }
  const decoded = guide
    ? inlineGraph(g, decoderPart(size, ch, true), 'decode/', { latents: z, ...guide.features }).image!
    : inlineGraph(g, decoderPart(size, ch, false), 'decode/', { latents: z }).image!;
  g.op('Identity', [decoded], {}, 'hr');
  g.output('hr', 'float32', dims(size, 4, 3));
  // quantise.ts: round_half_even(clamp(x·0.5 + 0.5, 0, 1)·255); ONNX Round is half to even
  const unit = g.op('Clip', [g.op('Add', [g.op('Mul', ['hr', g.scalar(0.5)]), g.scalar(0.5)]), g.scalar(0), g.scalar(1)]);
  const level = g.op('Round', [g.op('Mul', [unit, g.scalar(255)])]);
  g.op('Cast', [level], { to: 2 }, 'frame');
  g.output('frame', 'uint8', dims(size, 4, 3));
  // a division, as k/255 in float32 is what quantise.ts's table holds (a multiplication by 1/255 is not)
  g.op('Div', [level, g.scalar(255)], {}, 'levels');
  g.output('levels', 'float32', dims(size, 4, 3));
  return g;
}

/** First frame: ControlNet off. The pair gets all-zero residuals, the fused graph a zero warp and scale 0 (as the runtime feeds them). */
function zeroGuidance(g: InterfaceBuilder, ch: InterfaceChannels, denoiser: DenoiserForm): { residuals?: Record<string, string>; warped?: string } {
  const zeros = (shape: string) => g.op('ConstantOfShape', [shape], { value: { name: 'zero', type: 'float32', dims: [1], data: Float32Array.of(0) } });
  if (denoiser === 'fused') {
    const hrShape = g.op('Mul', [g.op('Shape', ['lr']), g.ints([1, 1, 4, 4])]);
    return { warped: zeros(hrShape) };
  }
  const residuals: Record<string, string> = {};
  RESIDUALS.forEach((name, i) => (residuals[name] = zeros(levelShape(g, ch.residuals[i]!, RESIDUAL_LEVELS[i]!, 'noise'))));
  return { residuals };
}

export function frameGraph(size: LrSize, ch: InterfaceChannels, o: FrameGraphOptions): Uint8Array {
  return encode(frameGraphPart(size, ch, o), `frame_${o.kind}, ${o.steps} steps, ${o.denoiser === 'fused' ? 'unet_step' : 'controlnet → unet'}`);
}
