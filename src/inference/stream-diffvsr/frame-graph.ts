/**
 * A frame through the per-frame graph (manifest `frame_graphs`): one session.run per frame, whose
 * only picture-sized traffic is the LR frames and noise in and the HR state and 8-bit frame out.
 * Input buffers are reused: the two LR buffers of a stream alternate (this frame's current is the
 * next frame's previous; they travel in the model's state, which the pipeline holds) and the noise
 * is drawn into one buffer. The previous HR is fed back as the tensor the last run returned, never
 * copied. With `preallocatedOutputs`, ONNX
 * Runtime writes hr and frame into two alternating HR tensors and one 8-bit tensor (session.run's
 * fetches); onnxruntime-node 1.30 then still returns a fresh copy of each, so this is off by
 * default (measured slower, README). The emitted frame is a new array: the pipeline keeps it.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { InferenceError } from '../../core/errors.js';
import { ort, type Ort } from '../ort.js';
import type { FrameGraphName } from './export-manifest.js';
import type { GraphSet } from './graph-set.js';
import type { NoiseSource } from './noise.js';
import { levelsToFrame } from './quantise.js';
import { stepCoefficients, type Schedule } from './scheduler.js';

/**
 * What a frame leaves for the next one on the per-frame path: the two LR buffers it alternates
 * between (this frame's current becomes the next one's previous, so no LR buffer is allocated per
 * frame), which of them holds this frame, and the unclamped HR output as ONNX Runtime returned it
 * (with pre-allocated outputs, the two HR tensors it alternates between too). Part of the model's
 * state, held by the pipeline: a tile or a sequence has its own.
 */
export interface FrameGraphState {
  readonly h: number;
  readonly w: number;
  readonly lr: readonly [Ort.Tensor, Ort.Tensor];
  readonly current: 0 | 1;
  readonly hr: Ort.Tensor;
  readonly hrPair?: readonly [Ort.Tensor, Ort.Tensor];
}

/** Where the current frame goes: a buffer of the previous state's pair (never the one it holds), or a new pair. */
export interface FrameSlot {
  readonly lr: readonly [Ort.Tensor, Ort.Tensor];
  readonly current: 0 | 1;
  readonly hrPair?: readonly [Ort.Tensor, Ort.Tensor];
}

export class FrameGraphRunner {
  private readonly timesteps: Ort.Tensor;
  private readonly coefficients: Ort.Tensor;
  /** The noise buffer (drawn into every frame) and the 8-bit output buffer, per size. */
  private shared?: { h: number; w: number; noise: Ort.Tensor; frame: Ort.Tensor };

  constructor(
    private readonly graphs: GraphSet,
    schedule: Schedule,
    private readonly noise: NoiseSource,
    private readonly latentChannels: number,
    /** Have ONNX Runtime write the outputs into pre-allocated tensors (session.run's fetches). */
    private readonly preallocatedOutputs: boolean,
  ) {
    const T = ort().Tensor;
    const S = schedule.timesteps.length;
    this.timesteps = new T('float32', Float32Array.from(schedule.timesteps), [S]);
    const c = new Float32Array(4 * S);
    schedule.timesteps.forEach((_, i) => {
      const k = stepCoefficients(schedule.alphaT[i]!, schedule.alphaPrev[i]!);
      c.set([k.sqrtAlpha, k.sqrtOneMinusAlpha, k.sqrtAlphaPrev, k.sqrtOneMinusAlphaPrev], 4 * i);
    });
    this.coefficients = new T('float32', c, [S, 4]);
  }

  /** The graphs must unroll as many steps as the schedule has. */
  checkSteps(): void {
    for (const name of ['frame_first', 'frame_history'] as const) {
      const dim = this.graphs.inputShape(name, 'timesteps')?.[0];
      if (typeof dim === 'number' && dim >= 0 && dim !== this.timesteps.dims[0]) {
        throw new InferenceError(`Stream-DiffVSR export: graph ${name} unrolls ${dim} steps, the schedule has ${this.timesteps.dims[0]}`);
      }
    }
  }

  /** Where to normalise the current LR frame: the other buffer of `previous`'s pair when it has this size. */
  slot(previous: FrameGraphState | undefined, h: number, w: number): FrameSlot {
    if (previous && previous.h === h && previous.w === w) return { lr: previous.lr, current: previous.current === 0 ? 1 : 0, ...(previous.hrPair ? { hrPair: previous.hrPair } : {}) };
    const f32 = (dims: number[]) => new (ort().Tensor)('float32', new Float32Array(dims.reduce((a, d) => a * d, 1)), dims);
    const hrDims = [1, 3, 4 * h, 4 * w];
    return { lr: [f32([1, 3, h, w]), f32([1, 3, h, w])], current: 0, ...(this.preallocatedOutputs ? { hrPair: [f32(hrDims), f32(hrDims)] as const } : {}) };
  }

  /**
   * Upscales the frame normalised into `slot`'s current LR buffer; `previous` (same size) is the
   * history to continue from, or undefined for the first-frame path. Returns the frame as level/255
   * and the state for the next frame.
   */
  async frame(h: number, w: number, slot: FrameSlot, previous: FrameGraphState | undefined, drawIndex: number, stage: string): Promise<{ levels: Float32Array; state: FrameGraphState }> {
    const shared = this.buffers(h, w);
    const cur = slot.current;
    if (this.noise.fillAhead) await this.noise.fillAhead(drawIndex, shared.noise.data as Float32Array);
    else this.noise.fill(drawIndex, shared.noise.data as Float32Array);
    const feeds: Record<string, Ort.Tensor> = { lr: slot.lr[cur], noise: shared.noise, timesteps: this.timesteps, step_coefficients: this.coefficients };
    if (previous) Object.assign(feeds, { prev_lr: slot.lr[1 - cur]!, prev_hr: previous.hr });
    const name: FrameGraphName = previous ? 'frame_history' : 'frame_first';
    // pre-allocated: hr and the 8-bit frame into our tensors, the frame converted into a new array;
    // else hr and the frame as level/255, both in memory ONNX Runtime allocated, handed on as they are
    const out = await this.graphs.run(name, feeds, stage, slot.hrPair ? { hr: slot.hrPair[cur], frame: shared.frame } : ['hr', 'levels']);
    const hr = slot.hrPair ? slot.hrPair[cur] : out.hr;
    const frame = slot.hrPair ? shared.frame : out.levels;
    const frameType = slot.hrPair ? 'uint8' : 'float32';
    if (!frame || frame.type !== frameType || frame.data.length !== 48 * h * w || !hr || hr.type !== 'float32' || hr.data.length !== 48 * h * w) {
      throw new InferenceError(
        `model stream-diffvsr (${stage}): ${name} returned hr ${hr ? `${hr.type}[${hr.dims.join(',')}]` : 'nothing'}, frame ${frame ? `${frame.type}[${frame.dims.join(',')}]` : 'nothing'}; expected float32 and ${frameType} [1,3,${4 * h},${4 * w}]`,
      );
    }
    const state: FrameGraphState = { h, w, lr: slot.lr, current: cur, hr, ...(slot.hrPair ? { hrPair: slot.hrPair } : {}) };
    const levels = slot.hrPair ? levelsToFrame(frame.data as Uint8Array, new Float32Array(frame.data.length)) : (frame.data as Float32Array);
    return { levels, state };
  }

  private buffers(h: number, w: number): { noise: Ort.Tensor; frame: Ort.Tensor } {
    if (this.shared && this.shared.h === h && this.shared.w === w) return this.shared;
    const T = ort().Tensor;
    this.shared = {
      h,
      w,
      noise: new T('float32', new Float32Array(this.latentChannels * h * w), [1, this.latentChannels, h, w]),
      frame: this.preallocatedOutputs ? new T('uint8', new Uint8Array(48 * h * w), [1, 3, 4 * h, 4 * w]) : new T('uint8', new Uint8Array(0), [0]),
    };
    return this.shared;
  }
}

/** SHA-256 of a graph file and its external data, hex (keys TensorRT's engine cache). */
export async function graphHash(file: string, externalData?: string): Promise<string> {
  const hash = createHash('sha256');
  for (const f of [file, ...(externalData ? [externalData] : [])]) {
    for await (const chunk of createReadStream(f)) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}
