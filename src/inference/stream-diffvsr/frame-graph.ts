/**
 * A frame through the per-frame graph (manifest `frame_graphs`): one session.run per frame, whose
 * only picture-sized traffic is the LR frames and noise in and the HR state and 8-bit frame out.
 * Input buffers are allocated once per size and reused: the two LR buffers alternate (this frame's
 * current is the next frame's previous) and the noise is drawn into one buffer. The previous HR is
 * fed back as the tensor the last run returned, never copied. With `preallocatedOutputs`, ONNX
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

interface Buffers {
  readonly h: number;
  readonly w: number;
  readonly lr: [Ort.Tensor, Ort.Tensor];
  readonly hr: [Ort.Tensor, Ort.Tensor];
  readonly noise: Ort.Tensor;
  readonly frame: Ort.Tensor;
}

export class FrameGraphRunner {
  private readonly timesteps: Ort.Tensor;
  private readonly coefficients: Ort.Tensor;
  private b?: Buffers;
  /** The previous frame's unclamped HR, when ONNX Runtime allocated it (no pre-allocated outputs). */
  private hrState?: Ort.Tensor;
  /** Index of the LR buffer and HR buffer holding the previous frame's. */
  private previous = 0;

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

  /** The buffer to normalise the current LR frame into: never the one holding the previous frame. */
  lrBuffer(h: number, w: number): Float32Array {
    return this.buffers(h, w).lr[1 - this.previous]!.data as Float32Array;
  }

  /** Upscales the frame in lrBuffer(); `history`: the previous frame's LR and HR are valid for this one. */
  async frame(h: number, w: number, history: boolean, drawIndex: number, stage: string): Promise<Float32Array> {
    const b = this.buffers(h, w);
    const cur = 1 - this.previous;
    if (this.noise.fillAhead) await this.noise.fillAhead(drawIndex, b.noise.data as Float32Array);
    else this.noise.fill(drawIndex, b.noise.data as Float32Array);
    const feeds: Record<string, Ort.Tensor> = { lr: b.lr[cur]!, noise: b.noise, timesteps: this.timesteps, step_coefficients: this.coefficients };
    const prevHr = this.preallocatedOutputs ? b.hr[this.previous]! : this.hrState;
    if (history && !prevHr) throw new InferenceError(`model stream-diffvsr (${stage}): no previous output to continue from`);
    if (history) Object.assign(feeds, { prev_lr: b.lr[this.previous]!, prev_hr: prevHr });
    const name: FrameGraphName = history ? 'frame_history' : 'frame_first';
    this.hrState = undefined;
    // pre-allocated: hr and the 8-bit frame into our tensors, the frame converted into a new array;
    // else hr and the frame as level/255, both in memory ONNX Runtime allocated, handed on as they are
    const out = await this.graphs.run(name, feeds, stage, this.preallocatedOutputs ? { hr: b.hr[cur]!, frame: b.frame } : ['hr', 'levels']);
    this.previous = cur;
    const hr = out.hr;
    const frame = this.preallocatedOutputs ? b.frame : out.levels;
    const frameType = this.preallocatedOutputs ? 'uint8' : 'float32';
    if (!frame || frame.type !== frameType || frame.data.length !== 48 * h * w || !hr || hr.type !== 'float32' || hr.data.length !== 48 * h * w) {
      throw new InferenceError(
        `model stream-diffvsr (${stage}): ${name} returned hr ${hr ? `${hr.type}[${hr.dims.join(',')}]` : 'nothing'}, frame ${frame ? `${frame.type}[${frame.dims.join(',')}]` : 'nothing'}; expected float32 and ${frameType} [1,3,${4 * h},${4 * w}]`,
      );
    }
    if (this.preallocatedOutputs) return levelsToFrame(frame.data as Uint8Array, new Float32Array(frame.data.length));
    this.hrState = hr;
    return frame.data as Float32Array;
  }

  private buffers(h: number, w: number): Buffers {
    if (this.b && this.b.h === h && this.b.w === w) return this.b;
    const T = ort().Tensor;
    const EMPTY = new T('float32', new Float32Array(0), [0]);
    const f32 = (dims: number[]) => new T('float32', new Float32Array(dims.reduce((a, d) => a * d, 1)), dims);
    const lrDims = [1, 3, h, w];
    const hrDims = [1, 3, 4 * h, 4 * w];
    this.b = {
      h,
      w,
      lr: [f32(lrDims), f32(lrDims)],
      hr: this.preallocatedOutputs ? [f32(hrDims), f32(hrDims)] : [EMPTY, EMPTY],
      noise: f32([1, this.latentChannels, h, w]),
      frame: this.preallocatedOutputs ? new T('uint8', new Uint8Array(3 * 16 * h * w), hrDims) : EMPTY,
    };
    this.previous = 0;
    this.hrState = undefined;
    return this.b;
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
