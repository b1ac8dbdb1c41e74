import type { Frame, PixelLayout, VideoInfo } from '../core/frame.js';
import { rgbOf, rgbPixels, scaledInfo } from '../core/frame.js';
import { InferenceError, UsageError } from '../core/errors.js';
import type { ModelManifest } from '../models/manifest.js';
import { variantFor } from '../models/manifest.js';
import { ort, type Ort } from './ort.js';
import { OnnxSession, describeShape, type SessionSettings } from './session.js';
import type { ModelState, ModelStep, SrModel } from './sr-model.js';
import { fromTensorData, tensorDims, toTensorData } from './tensor.js';
import { checkGraphMatchesManifest } from './graph-check.js';
import { TAIL_OUTPUTS, modelWithOutputTail } from './output-tail.js';
import { checkEngineWritten, checkRequiredInput, setUpProviders, withEnv, type ProviderSetup } from './tensorrt.js';
import type { Logger } from '../core/log.js';

export { checkGraphMatchesManifest };

/** What a history graph keeps of the previous frame: its input and its output, float RGB. */
interface PreviousFrame {
  readonly input: Float32Array;
  readonly output: Float32Array;
}

/**
 * A model that is one ONNX graph per scale, on float RGB: single-frame models, and causal video
 * models whose graph also takes the previous input and output frames (fed as zeros on the first
 * frame), kept as the state the pipeline hands back.
 */
export class OnnxFrameModel implements SrModel {
  readonly id: string;
  readonly usesHistory: boolean;
  readonly layouts: readonly PixelLayout[] = ['rgb-float'];
  private input?: VideoInfo;

  private constructor(
    private readonly manifest: ModelManifest,
    readonly scale: number,
    private readonly session: OnnxSession,
    private readonly providerSetup: ProviderSetup = {},
    private readonly log?: Logger,
    /** The graph ends with withOutputTail's clamp, 8-bit levels and NaN count. */
    private readonly tail = false,
  ) {
    this.id = manifest.id;
    this.usesHistory = manifest.history;
  }

  static async load(manifest: ModelManifest, scale: number, settings: SessionSettings): Promise<OnnxFrameModel> {
    const variant = variantFor(manifest, scale);
    const setup = setUpProviders(manifest, scale, settings);
    const tailed = manifest.layout === 'NCHW' && manifest.range[0] === 0 && manifest.range[1] === 1 ? await modelWithOutputTail(variant.file, manifest.output) : undefined;
    const session = await withEnv(setup.tensorrt?.env ?? {}, () => OnnxSession.create(manifest.id, variant.file, settings, tailed));
    checkGraphMatchesManifest(manifest, session, variant.file);
    const used = session.providers[0] === 'tensorrt' ? setup : {};
    return new OnnxFrameModel(manifest, scale, session, used, settings.log, tailed !== undefined);
  }

  async configure(input: VideoInfo, _layout: PixelLayout = 'rgb-float'): Promise<VideoInfo> {
    const min = this.manifest.minInputSide ?? 1;
    if (input.width < min || input.height < min) {
      throw new UsageError(`model ${this.id} needs frames of at least ${min}x${min}, the input is ${input.width}x${input.height}`);
    }
    checkRequiredInput(this.providerSetup, input, this.id);
    this.input = input;
    return scaledInfo(input, this.scale);
  }

  async upscale(current: Frame, state: ModelState | undefined): Promise<ModelStep> {
    const { width, height } = current.info;
    const rgb = rgbOf(current);
    const previous = state as PreviousFrame | undefined;
    const m = this.manifest;
    const w = width * this.scale;
    const h = height * this.scale;
    const feeds: Record<string, Ort.Tensor> = { [m.inputs.frame]: this.tensor(rgb, width, height) };
    if (m.inputs.previousFrame) feeds[m.inputs.previousFrame] = this.tensor(sameSizeOrZeros(previous?.input, width, height), width, height);
    if (m.inputs.previousOutput) feeds[m.inputs.previousOutput] = this.tensor(sameSizeOrZeros(previous?.output, w, h), w, h);
    const stage = `frame ${current.index}`;
    if (this.tail) return this.tailStep(await this.session.run(feeds, stage, Object.values(TAIL_OUTPUTS)), current, rgb, w, h);
    const result = await this.session.run(feeds, stage);
    const out = result[m.output];
    const expected = tensorDims(m.layout, h, w);
    if (!out || out.dims.length !== 4 || out.dims.some((d, i) => d !== expected[i])) {
      throw new InferenceError(`model ${this.id} (frame ${current.index}): output '${m.output}' is ${out ? describeShape(out.dims) : 'missing'}, expected ${describeShape(expected)}`);
    }
    const output = fromTensorData(out.data as Float32Array, w, h, m.layout, m.range, m.history);
    return { pixels: rgbPixels(output), ...(this.usesHistory ? { state: { input: rgb, output } satisfies PreviousFrame } : {}) };
  }

  /** The output as the graph's tail gave it: clamped floats, their 8-bit levels, NaN checked. */
  private tailStep(result: Record<string, Ort.Tensor>, current: Frame, input: Float32Array, w: number, h: number): ModelStep {
    const clamped = result[TAIL_OUTPUTS.clamped];
    const levels = result[TAIL_OUTPUTS.levels];
    const nans = Number(result[TAIL_OUTPUTS.nans]?.data[0] ?? 0);
    if (nans > 0) throw new InferenceError(`model ${this.id} gave NaN in frame ${current.index} (${nans} values)`);
    const expected = [1, 3, h, w];
    if (!clamped || !levels || clamped.dims.some((d, i) => d !== expected[i])) {
      throw new InferenceError(`model ${this.id} (frame ${current.index}): output '${this.manifest.output}' is ${clamped ? describeShape(clamped.dims) : 'missing'}, expected ${describeShape(expected)}`);
    }
    const output = clamped.data as Float32Array;
    return { pixels: { layout: 'rgb-float', rgb: output, levels8: levels.data as Uint8Array }, ...(this.usesHistory ? { state: { input, output } satisfies PreviousFrame } : {}) };
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

function sameSizeOrZeros(rgb: Float32Array | undefined, width: number, height: number): Float32Array {
  return rgb && rgb.length === 3 * width * height ? rgb : new Float32Array(3 * width * height);
}
