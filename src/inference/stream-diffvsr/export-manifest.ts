/**
 * `manifest.json` of a Stream-DiffVSR ONNX export (format `stream-diffvsr-onnx/1`, spec §2.4),
 * written by models/stream-diffvsr/export.py: the graph set, the scheduler constants and the
 * constant text embedding. Every problem names the file and the field.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../../core/errors.js';
import type { SchedulerConfig, TimestepSpacing } from './scheduler.js';

export const EXPORT_FORMAT = 'stream-diffvsr-onnx/1';
export const EXPORT_MANIFEST = 'manifest.json';
/** Where the README explains how to make an export. */
export const EXPORT_HELP = "see README.md, section 'Stream-DiffVSR: export and run'";

export type PartName = 'flow' | 'warp_encode' | 'controlnet' | 'unet' | 'unet_step' | 'tae_decode' | 'tae_decode_temporal';
/** The per-frame graphs (manifest `frame_graphs`): one frame, first-frame path or with history. */
export type FrameGraphName = 'frame_first' | 'frame_history';
export type GraphName = PartName | FrameGraphName;
export const GRAPH_NAMES: readonly PartName[] = ['flow', 'warp_encode', 'controlnet', 'unet', 'unet_step', 'tae_decode', 'tae_decode_temporal'];

export interface GraphFile {
  /** Absolute paths. */
  readonly file: string;
  readonly externalData?: string;
  /** Half-precision weights with float32 I/O, for GPU providers. */
  readonly fp16?: GraphFile;
}

export interface GraphEntry extends GraphFile {
  readonly name: GraphName;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly dynamic: boolean;
  /** Static graphs exported once per resolution profile. */
  readonly profileFiles: Readonly<Record<string, GraphFile>>;
}

export interface Profile {
  readonly name: string;
  readonly lr: readonly [number, number];
  readonly hr: readonly [number, number];
}

export interface DiffVsrExport {
  readonly dir: string;
  readonly path: string;
  readonly modelId: string;
  readonly scale: number;
  readonly latentChannels: number;
  readonly profiles: readonly Profile[];
  readonly lrMultiple: number;
  readonly minLrSide: number;
  readonly scheduler: SchedulerConfig;
  readonly textEmbedding: { readonly file: string; readonly shape: readonly number[] };
  readonly graphs: Readonly<Partial<Record<PartName, GraphEntry>>>;
  /** Per-frame graphs, one pair per step count they unroll (manifest `frame_graphs`, optional). */
  readonly frameGraphs: readonly FrameGraphs[];
}

export interface FrameGraphs {
  readonly steps: number;
  /** Which denoiser graphs were composed: 'controlnet+unet' or 'unet_step'. */
  readonly denoiser: string;
  readonly first: GraphEntry;
  readonly history: GraphEntry;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNumbers = (v: unknown): v is number[] => Array.isArray(v) && v.every(isNumber);

class Reader {
  constructor(readonly path: string) {}
  fail(field: string, what: string, got?: unknown): never {
    const tail = got === undefined ? 'is missing' : `must be ${what}, got ${JSON.stringify(got)?.slice(0, 80)}`;
    throw new UsageError(`Stream-DiffVSR export ${this.path}: field '${field}' ${tail}${got === undefined ? ` (${what})` : ''}`);
  }
  get<T>(obj: Json, key: string, where: string, check: (v: unknown) => v is T, what: string, fallback?: T): T {
    const v = obj[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (!check(v)) this.fail(where ? `${where}.${key}` : key, what, v);
    return v;
  }
}

function graphFile(dir: string, entry: Json, where: string, r: Reader): GraphFile {
  const file = r.get(entry, 'file', where, (v): v is string => typeof v === 'string' && v.length > 0, 'a file name');
  const external = entry.external_data;
  if (external !== undefined && typeof external !== 'string') r.fail(`${where}.external_data`, 'a file name', external);
  return {
    file: resolve(dir, file),
    ...(typeof external === 'string' ? { externalData: resolve(dir, external) } : {}),
    ...(isObject(entry.fp16) ? { fp16: graphFile(dir, entry.fp16, `${where}.fp16`, r) } : {}),
  };
}

function parseGraph(dir: string, name: GraphName, entry: Json, r: Reader, where = `graphs.${name}`): GraphEntry {
  const names = (key: string) => r.get(entry, key, where, (v): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string'), 'a list of tensor names');
  const profileFiles: Record<string, GraphFile> = {};
  const per = entry.profile_files;
  if (isObject(per)) for (const [profile, e] of Object.entries(per)) profileFiles[profile] = graphFile(dir, isObject(e) ? e : { file: e }, `${where}.profile_files.${profile}`, r);
  return {
    name,
    ...graphFile(dir, entry, where, r),
    inputs: names('inputs'),
    outputs: names('outputs'),
    dynamic: entry.dynamic === true,
    profileFiles,
  };
}

function parseScheduler(s: Json, r: Reader): SchedulerConfig {
  const w = 'scheduler';
  const num = (k: string, fallback?: number) => r.get(s, k, w, isNumber, 'a number', fallback);
  const nums = (k: string) => r.get(s, k, w, isNumbers, 'a list of numbers');
  r.get(s, 'prediction_type', w, (v): v is string => v === 'v_prediction', "'v_prediction'"); // checked, not used: the runtime is v-prediction only
  const spacing = r.get(s, 'timestep_spacing', w, (v): v is TimestepSpacing => v === 'trailing' || v === 'leading' || v === 'linspace', "'trailing', 'leading' or 'linspace'");
  const timesteps = nums('timesteps');
  const alphasCumprodT = nums('alphas_cumprod_t');
  const alphasCumprodPrev = nums('alphas_cumprod_prev');
  if (alphasCumprodT.length !== timesteps.length || alphasCumprodPrev.length !== timesteps.length) r.fail(`${w}.alphas_cumprod_t`, `${timesteps.length} values, one per timestep`, alphasCumprodT);
  return {
    numTrainTimesteps: num('num_train_timesteps', 1000),
    betaStart: num('beta_start'),
    betaEnd: num('beta_end'),
    betaSchedule: r.get(s, 'beta_schedule', w, (v): v is 'scaled_linear' | 'linear' => v === 'scaled_linear' || v === 'linear', "'scaled_linear' or 'linear'"),
    timestepSpacing: spacing,
    stepsOffset: num('steps_offset', 0),
    setAlphaToOne: s.set_alpha_to_one === true,
    numInferenceSteps: num('num_inference_steps'),
    timesteps,
    alphasCumprodT,
    alphasCumprodPrev,
    finalAlphaCumprod: num('final_alpha_cumprod'),
    ...(isNumbers(s.alphas_cumprod) ? { alphasCumprod: s.alphas_cumprod } : {}),
  };
}

export function parseExport(json: unknown, path: string): DiffVsrExport {
  const r = new Reader(path);
  if (!isObject(json)) throw new UsageError(`Stream-DiffVSR export ${path}: must be a JSON object`);
  r.get(json, 'format', '', (v): v is string => v === EXPORT_FORMAT, `'${EXPORT_FORMAT}'`);
  const dir = dirname(resolve(path));
  const graphsRaw = r.get(json, 'graphs', '', isObject, 'an object of graph entries');
  const graphs: Partial<Record<PartName, GraphEntry>> = {};
  for (const [name, entry] of Object.entries(graphsRaw)) {
    if (!GRAPH_NAMES.includes(name as PartName)) throw new UsageError(`Stream-DiffVSR export ${path}: unknown graph '${name}' (known: ${GRAPH_NAMES.join(', ')})`);
    if (!isObject(entry)) return r.fail(`graphs.${name}`, 'an object { file, inputs, outputs }', entry);
    graphs[name as PartName] = parseGraph(dir, name as PartName, entry, r);
  }
  const frameGraphs = parseFrameGraphs(dir, json.frame_graphs, r);
  const text = r.get(json, 'text_embedding', '', isObject, 'an object { file, shape }');
  const constraints = isObject(json.input_constraints) ? json.input_constraints : {};
  const profiles = (Array.isArray(json.profiles) ? json.profiles : []).map((p, i) => {
    if (!isObject(p) || typeof p.name !== 'string' || !isNumbers(p.lr) || p.lr.length !== 2 || !isNumbers(p.hr) || p.hr.length !== 2) r.fail(`profiles[${i}]`, 'an object { name, lr: [h, w], hr: [H, W] }', p);
    return { name: p.name, lr: [p.lr[0]!, p.lr[1]!] as const, hr: [p.hr[0]!, p.hr[1]!] as const };
  });
  const source = isObject(json.source) ? json.source : {};
  return {
    dir,
    path: resolve(path),
    modelId: typeof source.model_id === 'string' ? source.model_id : 'stream-diffvsr',
    scale: r.get(json, 'scale', '', (v): v is number => v === 4, '4', 4),
    latentChannels: r.get(json, 'latent_channels', '', isNumber, 'a number', 4),
    profiles,
    lrMultiple: r.get(constraints, 'lr_multiple', 'input_constraints', isNumber, 'a number', 4),
    minLrSide: r.get(constraints, 'min_lr_side', 'input_constraints', isNumber, 'a number', 32),
    scheduler: parseScheduler(r.get(json, 'scheduler', '', isObject, 'the scheduler block'), r),
    textEmbedding: {
      file: resolve(dir, r.get(text, 'file', 'text_embedding', (v): v is string => typeof v === 'string', 'a file name')),
      shape: r.get(text, 'shape', 'text_embedding', isNumbers, 'a shape like [1, 77, 1024]'),
    },
    graphs,
    frameGraphs,
  };
}

function parseFrameGraphs(dir: string, raw: unknown, r: Reader): FrameGraphs[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return r.fail('frame_graphs', 'a list of { steps, denoiser, first, history }', raw);
  const seen = new Set<number>();
  return raw.map((e, i) => {
    const where = `frame_graphs[${i}]`;
    if (!isObject(e)) return r.fail(where, 'an object { steps, denoiser, first, history }', e);
    const steps = r.get(e, 'steps', where, (v): v is number => Number.isInteger(v) && (v as number) >= 1, 'a whole number of steps');
    if (seen.has(steps)) r.fail(`${where}.steps`, 'a step count no other entry has', steps);
    seen.add(steps);
    const kind = (key: 'first' | 'history', name: FrameGraphName) => parseGraph(dir, name, r.get(e, key, where, isObject, 'a graph entry { file, inputs, outputs }'), r, `${where}.${key}`);
    return { steps, denoiser: typeof e.denoiser === 'string' ? e.denoiser : 'unknown', first: kind('first', 'frame_first'), history: kind('history', 'frame_history') };
  });
}

/** Which graphs the runtime needs: the decoders, flow and warp, and the denoiser as a pair or fused. */
export function missingGraphs(exp: Pick<DiffVsrExport, 'graphs'>): string[] {
  const g = exp.graphs;
  const missing: string[] = (['flow', 'warp_encode', 'tae_decode', 'tae_decode_temporal'] as const).filter((n) => !g[n]);
  if (!g.unet_step && !(g.unet && g.controlnet)) missing.push(!g.unet && !g.controlnet ? 'unet + controlnet (or unet_step)' : g.unet ? 'controlnet (or unet_step)' : 'unet (or unet_step)');
  return missing;
}

/** Every file the export names that is not on disk, relative to its folder. */
export function missingFiles(exp: DiffVsrExport): string[] {
  const files = [exp.textEmbedding.file];
  for (const g of [...Object.values(exp.graphs), ...exp.frameGraphs.flatMap((f) => [f.first, f.history])]) {
    for (const f of [g, ...Object.values(g.profileFiles)]) {
      for (const variant of [f, ...(f.fp16 ? [f.fp16] : [])]) {
        files.push(variant.file);
        if (variant.externalData) files.push(variant.externalData);
      }
    }
  }
  return files.filter((f) => !existsSync(f)).map((f) => (f.startsWith(exp.dir + '/') ? f.slice(exp.dir.length + 1) : f));
}

/** The files a complete fp32 export holds (for messages about a folder without a manifest). */
export const EXPECTED_FILES = [EXPORT_MANIFEST, 'empty_prompt_embeds.f32', 'flow.onnx', 'warp_encode.onnx', 'controlnet.onnx', 'controlnet.onnx.data', 'unet.onnx', 'unet.onnx.data', 'tae_decode.onnx', 'tae_decode_temporal.onnx'];
