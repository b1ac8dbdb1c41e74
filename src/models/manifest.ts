import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError, errorMessage } from '../core/errors.js';
import type { CpuFeatures } from '../inference/cpu-features.js';

export type Precision = 'fp32' | 'int8';
/** The one kind a model.json describes; Stream-DiffVSR exports are read from their own manifest.json (inference/stream-diffvsr/locate.ts). */
export type ModelKind = 'frame-graph';
/** Manifests written before 'frame-graph' was named call it 'image' (a video model is not an image model). */
const KIND_ALIASES: Readonly<Record<string, ModelKind>> = { 'frame-graph': 'frame-graph', image: 'frame-graph' };
export const PRECISIONS: readonly Precision[] = ['fp32', 'int8'];

/** One ONNX file of a model, for one scale factor (and one precision, where a model ships several). */
export interface ModelVariant {
  readonly scale: number;
  /** Absolute path once loaded (relative to model.json in the file). */
  readonly file: string;
  /** 'fp32' unless the file says otherwise; 'int8': a quantized (QDQ) graph of the same network. */
  readonly precision: Precision;
  /**
   * Where `--precision auto` picks this variant over the first one listed for its scale:
   * 'int8-dot-product', on CPUs with 8-bit dot-product instructions (see cpu-features.ts), where an
   * int8 graph has been measured faster than its fp32 one at no more than the quality loss allowed.
   */
  readonly autoOn?: AutoCondition;
}

export type AutoCondition = 'int8-dot-product';
const AUTO_CONDITIONS: readonly AutoCondition[] = ['int8-dot-product'];

/** Names of the graph's tensors for the parts of the one-frame history window. */
export interface ModelInputs {
  /** The current low-resolution frame. */
  readonly frame: string;
  /** The previous low-resolution frame (history models). */
  readonly previousFrame?: string;
  /** The previous high-resolution output (history models). */
  readonly previousOutput?: string;
}

/**
 * `models/<id>/model.json`: what a model is and how to feed it.
 *
 * ```json
 * { "format": "stream-sr-model/1", "id": "bicubic", "kind": "frame-graph",
 *   "variants": [{ "scale": 4, "file": "bicubic-x4.onnx" }],
 *   "inputs": { "frame": "input" }, "output": "output",
 *   "layout": "NCHW", "range": [0, 1], "history": false }
 * ```
 */
export interface ModelManifest {
  readonly format: 'stream-sr-model/1';
  readonly id: string;
  /** 'frame-graph': one ONNX graph per scale from a frame (and, for history models, its one-frame window) to the upscaled frame. */
  readonly kind: ModelKind;
  readonly description?: string;
  readonly variants: readonly ModelVariant[];
  readonly inputs: ModelInputs;
  readonly output: string;
  readonly layout: 'NCHW' | 'NHWC';
  /** Pixel values the graph takes and gives: [0, 1] or [0, 255]. */
  readonly range: readonly [number, number];
  readonly history: boolean;
  /**
   * What the graph's pictures are: 'rgb' (the default), planar R,G,B; 'luma', one plane of Y as 8-bit
   * limited-range codes k/255, the chroma scaled by swscale beside it.
   */
  readonly color: 'rgb' | 'luma';
  readonly license?: string;
  readonly origin?: string;
  /** Smallest input side the graph accepts. */
  readonly minInputSide?: number;
  /** Folder holding model.json. */
  readonly dir: string;
  readonly path: string;
  /** Everything else the file holds, for kinds with their own settings. */
  readonly extra: Readonly<Record<string, unknown>>;
}

type Json = Record<string, unknown>;

function field<T>(obj: Json, name: string, path: string, check: (v: unknown) => v is T, what: string): T {
  const v = obj[name];
  if (v === undefined) throw new UsageError(`model manifest ${path}: missing field '${name}' (${what})`);
  if (!check(v)) throw new UsageError(`model manifest ${path}: field '${name}' must be ${what}, got ${JSON.stringify(v)}`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScale = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 8;

/** Reads and validates a model.json; every problem names the field. Files are resolved, not opened. */
export async function readManifest(path: string): Promise<ModelManifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`model manifest ${path}: cannot read it (${errorMessage(err)})`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`model manifest ${path}: not valid JSON (${errorMessage(err)})`, { cause: err });
  }
  if (!isObject(json)) throw new UsageError(`model manifest ${path}: must be a JSON object`);
  return parseManifest(json, path);
}

export function parseManifest(json: Json, path: string): ModelManifest {
  const dir = dirname(resolve(path));
  const format = field(json, 'format', path, (v): v is 'stream-sr-model/1' => v === 'stream-sr-model/1', "'stream-sr-model/1'");
  const id = field(json, 'id', path, isString, 'a model id');
  if (json.kind === 'stream-diffvsr') {
    throw new UsageError(`model manifest ${path}: kind 'stream-diffvsr' is not a model.json kind; a Stream-DiffVSR export is a folder with its own manifest.json (README, "Stream-DiffVSR: export and run")`);
  }
  const kind = KIND_ALIASES[field(json, 'kind', path, (v): v is string => typeof v === 'string' && Object.hasOwn(KIND_ALIASES, v), "'frame-graph'")]!;
  const variantsRaw = field(json, 'variants', path, (v): v is unknown[] => Array.isArray(v) && v.length > 0, 'a non-empty list of { scale, file }');
  const variants = variantsRaw.map((v, i) => {
    const where = `${path} variants[${i}]`;
    if (!isObject(v)) throw new UsageError(`model manifest ${where}: must be an object { scale, file }`);
    const scale = field(v, 'scale', where, isScale, 'an integer scale factor 1..8');
    const file = field(v, 'file', where, isString, 'a file name');
    const precision = v.precision === undefined ? 'fp32' : field(v, 'precision', where, (p): p is Precision => PRECISIONS.includes(p as Precision), "'fp32' or 'int8'");
    const autoOn = v.autoOn === undefined ? undefined : field(v, 'autoOn', where, (c): c is AutoCondition => AUTO_CONDITIONS.includes(c as AutoCondition), "'int8-dot-product'");
    return { scale, file: resolve(dir, file), precision, ...(autoOn ? { autoOn } : {}) };
  });
  const inputsRaw = field(json, 'inputs', path, isObject, 'an object naming the graph inputs');
  const inputs: ModelInputs = {
    frame: field(inputsRaw, 'frame', `${path} inputs`, isString, 'the current frame input name'),
    ...(inputsRaw.previousFrame !== undefined ? { previousFrame: field(inputsRaw, 'previousFrame', `${path} inputs`, isString, 'an input name') } : {}),
    ...(inputsRaw.previousOutput !== undefined ? { previousOutput: field(inputsRaw, 'previousOutput', `${path} inputs`, isString, 'an input name') } : {}),
  };
  const output = field(json, 'output', path, isString, 'the output tensor name');
  const layout = field(json, 'layout', path, (v): v is 'NCHW' | 'NHWC' => v === 'NCHW' || v === 'NHWC', "'NCHW' or 'NHWC'");
  const range = field(json, 'range', path, (v): v is [number, number] => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number') && v[1]! > v[0]!, '[low, high], e.g. [0, 1] or [0, 255]');
  const history = field(json, 'history', path, isBool, 'true or false');
  if (history && !inputs.previousFrame && !inputs.previousOutput) {
    throw new UsageError(`model manifest ${path}: field 'history' is true but 'inputs' names neither 'previousFrame' nor 'previousOutput'`);
  }
  const color = json.color === undefined ? 'rgb' : field(json, 'color', path, (v): v is 'rgb' | 'luma' => v === 'rgb' || v === 'luma', "'rgb' or 'luma'");
  if (color === 'luma' && (layout !== 'NCHW' || range[0] !== 0 || range[1] !== 1)) {
    throw new UsageError(`model manifest ${path}: a luma model's graph takes NCHW pictures in [0, 1]`);
  }
  const optionalString = (name: string): Record<string, string> => (isString(json[name]) ? { [name]: json[name] as string } : {});
  return {
    format,
    id,
    kind,
    variants,
    inputs,
    output,
    layout,
    range,
    history,
    color,
    ...optionalString('description'),
    ...optionalString('license'),
    ...optionalString('origin'),
    ...(typeof json.minInputSide === 'number' ? { minInputSide: json.minInputSide } : {}),
    dir,
    path: resolve(path),
    extra: json,
  };
}

/**
 * Whether the model cuts its own graph runs into tiles under --tile/--max-memory (a luma frame graph:
 * its Y planes in tiles, the chroma scaled whole by swscale; OnnxFrameModel.tilePlanes) rather than
 * being given float RGB tiles by TiledModel. Its frames stay whole, so change-aware compute goes on.
 */
export function tilesOwnPlanes(manifest: ModelManifest): boolean {
  return manifest.kind === 'frame-graph' && manifest.color === 'luma';
}

/** The variant of `scale` whose `autoOn` this CPU meets, if any: `--precision auto`'s pick on the CPU over the first one listed. */
export function preferredOnCpu(manifest: ModelManifest, scale: number, cpu: CpuFeatures): ModelVariant | undefined {
  return manifest.variants.find((v) => v.scale === scale && v.autoOn === 'int8-dot-product' && cpu.int8DotProduct);
}

/**
 * The variant for `scale`: of `precision` when one is asked for, else the first the manifest lists
 * for that scale (its default).
 */
export function variantFor(manifest: ModelManifest, scale: number, precision?: Precision): ModelVariant {
  const forScale = manifest.variants.filter((x) => x.scale === scale);
  if (forScale.length === 0) {
    throw new UsageError(`model ${manifest.id} has no x${scale} variant (it has ${[...new Set(manifest.variants.map((x) => `x${x.scale}`))].join(', ')})`);
  }
  const v = precision ? forScale.find((x) => x.precision === precision) : forScale[0];
  if (!v) throw new UsageError(`model ${manifest.id} has no ${precision} x${scale} variant (it has ${forScale.map((x) => x.precision).join(', ')})`);
  return v;
}
