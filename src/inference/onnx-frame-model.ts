import type { Frame, PixelLayout, VideoInfo } from '../core/frame.js';
import { rgbOf, rgbPixels, scaledInfo } from '../core/frame.js';
import { InferenceError, UsageError } from '../core/errors.js';
import type { ModelManifest } from '../models/manifest.js';
import { tilesOwnPlanes, variantFor, type Precision } from '../models/manifest.js';
import { ort, type Ort } from './ort.js';
import { LumaPlanes, lumaModelInput } from '../av/luma-planes.js';
import { OnnxSession, describeShape, type SessionSettings } from './session.js';
import type { ModelState, ModelStep, SrModel } from './sr-model.js';
import { fromTensorData, tensorDims, toTensorData } from './tensor.js';
import { checkGraphMatchesManifest } from './graph-check.js';
import { TAIL_OUTPUTS, modelWithOutputTail } from './output-tail.js';
import { checkEngineWritten, checkRequiredInput, setUpProviders, withEnv, type ProviderSetup } from './tensorrt.js';
import type { Logger } from '../core/log.js';
import { CHANGE_DEFAULTS, ChangeTracker, describeTotals, pastePlanes, updateReference, type ChangeState } from './change-aware.js';
import { MOTION_GRID, tileGrid, type Tile } from './tile-grid.js';
import { TileBlender, cropPlanes } from './tile-pixels.js';
import { quantiseLevels } from '../core/levels.js';

export { checkGraphMatchesManifest };

/**
 * What a history graph keeps of the previous frame: its input and its output, float RGB (or Y).
 * Change-aware compute keeps the output's 8-bit levels too, and `input` is then the reference: per
 * tile, the frame that tile's output was last computed from.
 */
interface PreviousFrame {
  readonly input: Float32Array;
  readonly output: Float32Array;
  readonly levels?: Uint8Array;
  readonly change?: ChangeState;
}

/** A full-frame or windowed run's result: clamped output planes and their 8-bit levels. */
interface Computed {
  readonly output: Float32Array;
  readonly levels: Uint8Array;
  readonly state: PreviousFrame;
}

/** Planes a graph takes and gives: one of Y for luma models (on native YUV pictures), R, G, B for the others (on float RGB). */
const planeCount = (manifest: ModelManifest): 1 | 3 => (manifest.color === 'luma' ? 1 : 3);

/**
 * A model that is one ONNX graph per scale, on float RGB: single-frame models, and causal video
 * models whose graph also takes the previous input and output frames (fed as zeros on the first
 * frame), kept as the state the pipeline hands back. A luma model (manifest `color: 'luma'`) runs on
 * native YUV pictures instead: its graph takes and gives one plane of Y, the chroma is scaled by
 * swscale beside it, and no float RGB is made or read.
 */
export class OnnxFrameModel implements SrModel {
  readonly id: string;
  readonly usesHistory: boolean;
  readonly layouts: readonly PixelLayout[];
  readonly detail?: string;
  private input?: VideoInfo;
  /** Luma models: the Y planes in and out, chroma by swscale. */
  private lumaPlanes?: LumaPlanes;
  private readonly channels: 1 | 3;
  /** Change-aware compute (threshold in 8-bit levels), where asked for and the graph allows it. */
  private readonly changeThreshold?: number;
  private tracker?: ChangeTracker;
  /** Luma models under --tile/--max-memory: graph runs larger than this are cut into overlapping tiles. */
  private planeTiles?: { readonly tile: number; readonly overlap: number };
  /** The tiles of the last size tiled (frames keep their size; a new size replaces it). */
  private grid?: { readonly width: number; readonly height: number; readonly tiles: readonly Tile[] };

  private constructor(
    private readonly manifest: ModelManifest,
    readonly scale: number,
    private readonly session: OnnxSession,
    private readonly providerSetup: ProviderSetup = {},
    private readonly log?: Logger,
    /** The graph ends with withOutputTail's clamp, 8-bit levels and NaN count. */
    private readonly tail = false,
    precision?: Precision,
    changeThreshold?: number,
  ) {
    this.id = manifest.id;
    this.channels = planeCount(manifest);
    // windows are cut from planar [0,1] feeds and pasted into the tail's outputs; their margins are
    // set for causal-sr's receptive field, so history models only (single-frame ones see further)
    if (changeThreshold !== undefined && tail && manifest.history) this.changeThreshold = changeThreshold;
    this.usesHistory = manifest.history;
    const details = [
      ...(precision && manifest.variants.some((v) => v.scale === scale && v.precision !== precision) ? [precision] : []),
      ...(this.changeThreshold !== undefined ? [`change-aware (threshold ${this.changeThreshold})`] : []),
    ];
    if (details.length) this.detail = details.join(' ');
    this.layouts = this.channels === 1 ? ['native'] : ['rgb-float'];
    if (tilesOwnPlanes(manifest)) {
      this.tilePlanes = (tile, overlap) => {
        this.planeTiles = { tile, overlap };
        return MOTION_GRID;
      };
    }
  }

  /**
   * `precision`: of a model that ships several, which weights (undefined: the manifest's default).
   * `changeThreshold`: change-aware compute with this threshold in 8-bit levels (undefined: off; see change-aware.ts).
   */
  static async load(manifest: ModelManifest, scale: number, settings: SessionSettings, precision?: Precision, changeThreshold?: number): Promise<OnnxFrameModel> {
    const variant = variantFor(manifest, scale, precision);
    const setup = setUpProviders(manifest, scale, settings);
    const channels = planeCount(manifest);
    const tailed = manifest.layout === 'NCHW' && manifest.range[0] === 0 && manifest.range[1] === 1 ? await modelWithOutputTail(variant.file, manifest.output, channels) : undefined;
    if (channels === 1 && !tailed) throw new UsageError(`model ${manifest.id}: ${variant.file} cannot be read as an ONNX model with output '${manifest.output}'`);
    const session = await withEnv(setup.tensorrt?.env ?? {}, () => OnnxSession.create(manifest.id, variant.file, settings, tailed));
    checkGraphMatchesManifest(manifest, session, variant.file);
    const used = session.providers[0] === 'tensorrt' ? setup : {};
    return new OnnxFrameModel(manifest, scale, session, used, settings.log, tailed !== undefined, variant.precision, changeThreshold);
  }

  /** Luma models: the native pictures they take for `input` (8-bit limited-range YUV), converted once where the source differs. */
  nativeInput(input: VideoInfo): VideoInfo {
    return this.channels === 1 ? lumaModelInput(input) : input;
  }

  async configure(input: VideoInfo, _layout?: PixelLayout): Promise<VideoInfo> {
    const min = this.manifest.minInputSide ?? 1;
    if (input.width < min || input.height < min) {
      throw new UsageError(`model ${this.id} needs frames of at least ${min}x${min}, the input is ${input.width}x${input.height}`);
    }
    checkRequiredInput(this.providerSetup, input, this.id);
    if (this.channels === 1) this.lumaPlanes = await LumaPlanes.create(input, this.scale);
    if (this.changeThreshold !== undefined) this.tracker = new ChangeTracker(input.width, input.height, this.channels, { ...CHANGE_DEFAULTS, threshold: this.changeThreshold });
    this.input = input;
    return scaledInfo(input, this.scale);
  }

  async upscale(current: Frame, state: ModelState | undefined): Promise<ModelStep> {
    if (this.lumaPlanes) return this.upscaleLuma(current, state as PreviousFrame | undefined, this.lumaPlanes);
    const { width, height } = current.info;
    const rgb = rgbOf(current);
    const previous = state as PreviousFrame | undefined;
    if (this.tracker) {
      const { output, levels, state: next } = await this.changeAware(this.tracker, rgb, previous, current);
      return { pixels: { layout: 'rgb-float', rgb: output, levels8: levels }, state: next };
    }
    const m = this.manifest;
    const w = width * this.scale;
    const h = height * this.scale;
    const history = this.historyFor(previous, width, height);
    const stage = `frame ${current.index}`;
    if (this.tail) {
      // a tailed graph is NCHW on [0,1] planes: the luma path's run, on three planes
      const { output, levels } = await this.runPlanes(rgb, history, width, height, current, stage);
      return { pixels: { layout: 'rgb-float', rgb: output, levels8: levels }, ...(this.usesHistory ? { state: { input: rgb, output } satisfies PreviousFrame } : {}) };
    }
    const feeds: Record<string, Ort.Tensor> = { [m.inputs.frame]: this.tensor(rgb, width, height) };
    if (m.inputs.previousFrame) feeds[m.inputs.previousFrame] = this.tensor(history.input, width, height);
    if (m.inputs.previousOutput) feeds[m.inputs.previousOutput] = this.tensor(history.output, w, h);
    const result = await this.session.run(feeds, stage);
    const out = result[m.output];
    const expected = tensorDims(m.layout, h, w);
    if (!out || out.dims.length !== 4 || out.dims.some((d, i) => d !== expected[i])) {
      throw new InferenceError(`model ${this.id} (frame ${current.index}): output '${m.output}' is ${out ? describeShape(out.dims) : 'missing'}, expected ${describeShape(expected)}`);
    }
    const output = fromTensorData(out.data as Float32Array, w, h, m.layout, m.range, m.history);
    return { pixels: rgbPixels(output), ...(this.usesHistory ? { state: { input: rgb, output } satisfies PreviousFrame } : {}) };
  }

  /**
   * Y through the graph while swscale scales the picture (chroma) on its own thread; the model's Y
   * levels then replace the scaled Y. The history is the previous Y in and out.
   */
  private async upscaleLuma(current: Frame, previous: PreviousFrame | undefined, planes: LumaPlanes): Promise<ModelStep> {
    if (current.layout !== 'native') throw new Error(`frame ${current.index} is ${current.layout}, a luma model takes native pictures: the formats were not negotiated`);
    const { width, height } = current.info;
    const y = planes.read(current.picture);
    if (this.tracker) {
      const [{ levels, state: next }, scaled] = await Promise.all([this.changeAware(this.tracker, y, previous, current), planes.scaled(current.picture)]);
      return { pixels: { layout: 'native', picture: planes.withLuma(scaled, levels) }, state: next };
    }
    const history = this.historyFor(previous, width, height);
    const [{ output, levels }, scaled] = await Promise.all([this.runPlanes(y, history, width, height, current, `frame ${current.index}`), planes.scaled(current.picture)]);
    return { pixels: { layout: 'native', picture: planes.withLuma(scaled, levels) }, ...(this.usesHistory ? { state: { input: y, output } satisfies PreviousFrame } : {}) };
  }

  /**
   * Change-aware compute (see change-aware.ts): the whole frame, nothing (the previous output again),
   * or windows around the changed tiles pasted into a copy of the previous output. `frame` is the
   * current frame's planes (RGB or Y) as the graph takes them.
   */
  private async changeAware(tracker: ChangeTracker, frame: Float32Array, previous: PreviousFrame | undefined, current: Frame): Promise<Computed> {
    const { width, height } = current.info;
    const { channels, scale } = this;
    const w = width * scale;
    const h = height * scale;
    const usable = previous?.levels && previous.input.length === frame.length && previous.output.length === channels * w * h ? previous : undefined;
    const { plan, state: change } = tracker.plan(frame, usable?.input, usable?.change);
    if (plan.kind === 'reuse') {
      const { output, levels } = usable!;
      return { output, levels: levels!, state: { input: usable!.input, output, levels: levels!, change } };
    }
    if (plan.kind === 'full') {
      const history = this.historyFor(previous, width, height);
      const { output, levels } = await this.runPlanes(frame, history, width, height, current, `frame ${current.index}`);
      return { output, levels, state: { input: frame, output, levels, change } };
    }
    const prev = usable!;
    const output = prev.output.slice();
    const levels = prev.levels!.slice();
    for (const win of plan.windows) {
      const b = win.compute;
      const history = { input: cropPlanes(prev.input, width, height, channels, b), output: cropPlanes(prev.output, width, height, channels, b, scale) };
      const part = await this.runPlanes(cropPlanes(frame, width, height, channels, b), history, b.w, b.h, current, `frame ${current.index} (window ${b.w}x${b.h} at ${b.x},${b.y})`);
      pastePlanes(output, width, height, channels, win, part.output, scale);
      pastePlanes(levels, width, height, channels, win, part.levels, scale);
    }
    const input = updateReference(prev.input, frame, width, height, channels, plan.windows);
    return { output, levels, state: { input, output, levels, change } };
  }

  /**
   * Models that tile their own planes (manifest.ts tilesOwnPlanes: luma ones) under --tile/--max-memory:
   * graph runs on more than `tile` x `tile` input pixels are cut into overlapping tiles and blended with
   * feathered weights (TiledModel's grid), while the chroma is still scaled whole by swscale and the
   * history stays the whole previous Y. Absent on RGB models, which TiledModel gives float RGB tiles.
   */
  readonly tilePlanes?: (tile: number, overlap: number) => number;

  /**
   * One graph run on planes of `width` x `height` (the frame, or a change-aware window) with the
   * history for them, through the tail: clamped planes and their 8-bit levels. With plane tiling on
   * and planes larger than a tile, one run per tile, blended.
   */
  private async runPlanes(frame: Float32Array, history: { input: Float32Array; output: Float32Array }, width: number, height: number, current: Frame, stage: string): Promise<{ output: Float32Array; levels: Uint8Array }> {
    const { scale, channels } = this;
    const m = this.manifest;
    const once = async (input: Float32Array, prevIn: Float32Array, prevOut: Float32Array, w: number, h: number, where: string) => {
      const feeds: Record<string, Ort.Tensor> = { [m.inputs.frame]: this.plane(input, w, h) };
      if (m.inputs.previousFrame) feeds[m.inputs.previousFrame] = this.plane(prevIn, w, h);
      if (m.inputs.previousOutput) feeds[m.inputs.previousOutput] = this.plane(prevOut, w * scale, h * scale);
      return this.tailOutputs(await this.session.run(feeds, where, Object.values(TAIL_OUTPUTS)), current, w * scale, h * scale);
    };
    const tiling = this.planeTiles;
    if (!tiling || (width <= tiling.tile && height <= tiling.tile)) return once(frame, history.input, history.output, width, height, stage);
    if (this.grid?.width !== width || this.grid.height !== height) this.grid = { width, height, tiles: tileGrid(width, height, tiling.tile, tiling.overlap, scale, MOTION_GRID) };
    const blender = new TileBlender(width * scale, height * scale, 1);
    for (const t of this.grid.tiles) {
      const box = { x: t.x, y: t.y, w: t.width, h: t.height };
      const part = await once(cropPlanes(frame, width, height, channels, box), cropPlanes(history.input, width, height, channels, box), cropPlanes(history.output, width, height, channels, box, scale), t.width, t.height, `${stage} (tile ${t.width}x${t.height} at ${t.x},${t.y})`);
      blender.add(part.output, t.x * scale, t.y * scale, t.weightX, t.weightY);
    }
    const output = blender.result();
    // the levels as the tail makes them: round(clamp(x)·255), ties to even (exactly the tile's own where one tile covers)
    const levels = new Uint8Array(output.length);
    quantiseLevels(output, 8, levels);
    return { output, levels };
  }

  /**
   * The previous input and output planes a whole-frame run feeds (zeros where there are none yet, or
   * of another size), only for the inputs the graph has: a single-frame model gets empty ones.
   */
  private historyFor(previous: PreviousFrame | undefined, width: number, height: number): { input: Float32Array; output: Float32Array } {
    const { inputs } = this.manifest;
    const { channels, scale } = this;
    return {
      input: inputs.previousFrame ? sameSizeOrZeros(previous?.input, width, height, channels) : NO_PLANES,
      output: inputs.previousOutput ? sameSizeOrZeros(previous?.output, width * scale, height * scale, channels) : NO_PLANES,
    };
  }

  /** The end-of-run line of change-aware compute: how much was skipped. */
  report(): string | undefined {
    return this.tracker ? describeTotals(this.tracker.totals) : undefined;
  }

  private tailOutputs(result: Record<string, Ort.Tensor>, current: Frame, w: number, h: number): { output: Float32Array; levels: Uint8Array } {
    const clamped = result[TAIL_OUTPUTS.clamped];
    const levels = result[TAIL_OUTPUTS.levels];
    const nans = Number(result[TAIL_OUTPUTS.nans]?.data[0] ?? 0);
    if (nans > 0) throw new InferenceError(`model ${this.id} gave NaN in frame ${current.index} (${nans} values)`);
    const expected = [1, this.channels, h, w];
    if (!clamped || !levels || clamped.dims.some((d, i) => d !== expected[i])) {
      throw new InferenceError(`model ${this.id} (frame ${current.index}): output '${this.manifest.output}' is ${clamped ? describeShape(clamped.dims) : 'missing'}, expected ${describeShape(expected)}`);
    }
    return { output: clamped.data as Float32Array, levels: levels.data as Uint8Array };
  }

  private tensor(rgb: Float32Array, width: number, height: number): Ort.Tensor {
    const m = this.manifest;
    return new (ort().Tensor)('float32', toTensorData(rgb, width, height, m.layout, m.range), tensorDims(m.layout, height, width));
  }

  /** The graph's planes (a luma model's Y, or planar RGB), NCHW [0, 1] as luma and tailed manifests have them. */
  private plane(values: Float32Array, width: number, height: number): Ort.Tensor {
    return new (ort().Tensor)('float32', values, [1, this.channels, height, width]);
  }

  async dispose(): Promise<void> {
    if (this.log) checkEngineWritten(this.providerSetup, (msg) => this.log!.warn(msg));
    await this.session.release();
  }

  get configuredInput(): VideoInfo | undefined {
    return this.input;
  }
}

const NO_PLANES = new Float32Array(0);

function sameSizeOrZeros(planes: Float32Array | undefined, width: number, height: number, channels: number): Float32Array {
  return planes && planes.length === channels * width * height ? planes : new Float32Array(channels * width * height);
}
