import type { Frame, VideoInfo } from '../core/frame.js';
import { scaledInfo } from '../core/frame.js';
import { InferenceError, UsageError } from '../core/errors.js';
import type { ModelManifest } from '../models/manifest.js';
import { variantFor } from '../models/manifest.js';
import { ort, type Ort } from './ort.js';
import { OnnxSession, describeShape, type SessionSettings } from './session.js';
import type { HistoryWindow, SrModel } from './sr-model.js';
import { fromTensorData, tensorDims, toTensorData } from './tensor.js';

/**
 * A model that is one ONNX graph per scale: single-frame models, and causal models whose graph also
 * takes the previous input and output frames (fed as zeros on the first frame).
 */
export class ImageModel implements SrModel {
  readonly id: string;
  readonly usesHistory: boolean;
  private input?: VideoInfo;

  private constructor(
    private readonly manifest: ModelManifest,
    readonly scale: number,
    private readonly session: OnnxSession,
  ) {
    this.id = manifest.id;
    this.usesHistory = manifest.history;
  }

  static async load(manifest: ModelManifest, scale: number, settings: SessionSettings): Promise<ImageModel> {
    const variant = variantFor(manifest, scale);
    const session = await OnnxSession.create(manifest.id, variant.file, settings);
    checkGraphMatchesManifest(manifest, session, variant.file);
    return new ImageModel(manifest, scale, session);
  }

  async configure(input: VideoInfo): Promise<VideoInfo> {
    const min = this.manifest.minInputSide ?? 1;
    if (input.width < min || input.height < min) {
      throw new UsageError(`model ${this.id} needs frames of at least ${min}x${min}, the input is ${input.width}x${input.height}`);
    }
    this.input = input;
    return scaledInfo(input, this.scale);
  }

  async upscale(window: HistoryWindow): Promise<Float32Array> {
    const { current } = window;
    const { width, height } = current.info;
    const m = this.manifest;
    const feeds: Record<string, Ort.Tensor> = { [m.inputs.frame]: this.tensor(current.rgb, width, height) };
    if (m.inputs.previousFrame) {
      feeds[m.inputs.previousFrame] = this.tensor(sameSizeOrZeros(window.previousInput, width, height), width, height);
    }
    if (m.inputs.previousOutput) {
      const w = width * this.scale;
      const h = height * this.scale;
      feeds[m.inputs.previousOutput] = this.tensor(sameSizeOrZeros(window.previousOutput, w, h), w, h);
    }
    const result = await this.session.run(feeds, `frame ${current.index}`);
    const out = result[m.output];
    const expected = tensorDims(m.layout, height * this.scale, width * this.scale);
    if (!out || out.dims.length !== 4 || out.dims.some((d, i) => d !== expected[i])) {
      throw new InferenceError(`model ${this.id} (frame ${current.index}): output '${m.output}' is ${out ? describeShape(out.dims) : 'missing'}, expected ${describeShape(expected)}`);
    }
    return fromTensorData(out.data as Float32Array, width * this.scale, height * this.scale, m.layout, m.range, m.history);
  }

  private tensor(rgb: Float32Array, width: number, height: number): Ort.Tensor {
    const m = this.manifest;
    return new (ort().Tensor)('float32', toTensorData(rgb, width, height, m.layout, m.range), tensorDims(m.layout, height, width));
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }

  get configuredInput(): VideoInfo | undefined {
    return this.input;
  }
}

function sameSizeOrZeros(frame: Frame | null, width: number, height: number): Float32Array {
  if (frame && frame.info.width === width && frame.info.height === height) return frame.rgb;
  return new Float32Array(3 * width * height);
}

/** The manifest's input and output names must be the graph's, so a mismatch fails at load, naming the tensor. */
export function checkGraphMatchesManifest(m: ModelManifest, session: OnnxSession, file: string): void {
  const named = [m.inputs.frame, m.inputs.previousFrame, m.inputs.previousOutput].filter((n): n is string => Boolean(n));
  for (const name of named) {
    if (!session.inputs.has(name)) {
      throw new UsageError(`model ${m.id}: manifest input '${name}' is not an input of ${file} (graph inputs: ${[...session.inputs.keys()].join(', ')})`);
    }
  }
  for (const name of session.inputs.keys()) {
    if (!named.includes(name)) throw new UsageError(`model ${m.id}: graph input '${name}' of ${file} is not named in the manifest's 'inputs'`);
  }
  if (!session.outputs.has(m.output)) {
    throw new UsageError(`model ${m.id}: manifest output '${m.output}' is not an output of ${file} (graph outputs: ${[...session.outputs.keys()].join(', ')})`);
  }
}
