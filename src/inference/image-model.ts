import type { Frame, VideoInfo } from '../core/frame.js';
import { scaledInfo } from '../core/frame.js';
import { InferenceError, UsageError } from '../core/errors.js';
import type { ModelManifest } from '../models/manifest.js';
import { variantFor } from '../models/manifest.js';
import { ort, type Ort } from './ort.js';
import { OnnxSession, describeShape, type SessionSettings } from './session.js';
import type { HistoryWindow, SrModel } from './sr-model.js';
import { fromTensorData, tensorDims, toTensorData } from './tensor.js';
import { checkGraphMatchesManifest } from './graph-check.js';
import { checkEngineWritten, checkRequiredInput, setUpProviders, withEnv, type ProviderSetup } from './tensorrt.js';
import type { Logger } from '../core/log.js';

export { checkGraphMatchesManifest };

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
    private readonly providerSetup: ProviderSetup = {},
    private readonly log?: Logger,
  ) {
    this.id = manifest.id;
    this.usesHistory = manifest.history;
  }

  static async load(manifest: ModelManifest, scale: number, settings: SessionSettings): Promise<ImageModel> {
    const variant = variantFor(manifest, scale);
    const setup = setUpProviders(manifest, scale, settings);
    const session = await withEnv(setup.tensorrt?.env ?? {}, () => OnnxSession.create(manifest.id, variant.file, settings));
    checkGraphMatchesManifest(manifest, session, variant.file);
    const used = session.providers[0] === 'tensorrt' ? setup : {};
    return new ImageModel(manifest, scale, session, used, settings.log);
  }

  async configure(input: VideoInfo): Promise<VideoInfo> {
    const min = this.manifest.minInputSide ?? 1;
    if (input.width < min || input.height < min) {
      throw new UsageError(`model ${this.id} needs frames of at least ${min}x${min}, the input is ${input.width}x${input.height}`);
    }
    checkRequiredInput(this.providerSetup, input, this.id);
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
    if (this.log) checkEngineWritten(this.providerSetup, (msg) => this.log!.warn(msg));
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
