import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { RunStats } from '../core/stats.js';
import type { SrModel } from '../inference/sr-model.js';
import { openModel } from './build.js';
import type { ModelSpec } from './spec.js';
import { findModel } from '../models/registry.js';
import { PngFolderSink } from '../sinks/png-folder-sink.js';
import { listPngs, PngFolderSource } from '../sources/png-folder.js';
import { runPipeline } from './run.js';
import { StopSignals } from './signals.js';

export interface FramesJob {
  /** Folder of sequence folders: DIR/<seq>/*.png (the reference tool's --in_path). */
  readonly inPath: string;
  /** Results go to outPath/<name of inPath>/<seq>/ (the reference tool's --out_path). */
  readonly outPath: string;
  /** The model and how it runs (MODEL_OPTIONS). */
  readonly model: ModelSpec;
  readonly overwrite: boolean;
  readonly maxInFlight: number;
  readonly log: Logger;
}

export interface SequenceResult {
  readonly name: string;
  readonly target: string;
  readonly frames: number;
}

const countEntries = (n: number): string => (n === 1 ? '1 entry' : `${n} entries`);
const someOf = (names: readonly string[]): string => `${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}`;

/** Python's sorted() on names: code-point order. */
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The folder name the reference puts between out_path and the sequence:
 * `Path(os.path.join(in_path, seq)).parent.name`, i.e. the last component of in_path as written,
 * ignoring '.' and empty components (`.` gives '', so results land in out_path/<seq>). Where
 * that component is '..', the reference would write outside out_path; the folder's real name is
 * used instead.
 */
export function layoutParentName(inPath: string): string {
  const parts = inPath.split('/').filter((p) => p !== '' && p !== '.');
  const last = parts.at(-1) ?? '';
  return last === '..' ? basename(resolve(inPath)) : last;
}

/** Sequence folders of inPath in name order, warning about anything else found there. */
async function listSequences(inPath: string, log: Logger): Promise<string[]> {
  if (!existsSync(inPath) || !statSync(inPath).isDirectory()) throw new UsageError(`--in_path '${inPath}': no such folder`);
  const entries = (await readdir(inPath, { withFileTypes: true })).sort((a, b) => byName(a.name, b.name));
  const others = entries.filter((e) => !e.isDirectory()).map((e) => e.name);
  const sequences = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  if (sequences.length === 0) {
    const pngs = others.filter((n) => n.toLowerCase().endsWith('.png'));
    const hint = pngs.length ? ` (it holds ${pngs.length} .png files: put them in a sequence folder, DIR/<seq>/*.png, and pass DIR)` : '';
    throw new UsageError(`--in_path '${inPath}': no sequence folders${hint}`);
  }
  if (others.length) log.warn(`--in_path '${inPath}': ${countEntries(others.length)} that ${others.length === 1 ? 'is' : 'are'} not a sequence folder skipped: ${someOf(others)}`);
  return sequences;
}

/** Refuses to replace existing results unless asked (-y), before any sequence runs. */
async function checkTargets(plan: ReadonlyArray<{ source: string; target: string }>, overwrite: boolean): Promise<void> {
  if (overwrite) return;
  for (const { source, target } of plan) {
    for (const name of await listPngs(source)) {
      if (existsSync(join(target, name))) throw new UsageError(`output '${join(target, name)}' already exists; use -y to overwrite the results`);
    }
  }
}

/** A model shared by several runs: each run's dispose is ignored, the job disposes it once at the end. */
function keptOpen(model: SrModel): SrModel {
  return { id: model.id, scale: model.scale, usesHistory: model.usesHistory, layouts: model.layouts, ...(model.detail ? { detail: model.detail } : {}), ...(model.nativeInput ? { nativeInput: model.nativeInput.bind(model) } : {}), configure: (i, l) => model.configure(i, l), upscale: (f, s) => model.upscale(f, s), dispose: async () => undefined };
}

async function warnAboutOtherFiles(dir: string, name: string, log: Logger): Promise<void> {
  const others = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.isFile() || !e.name.toLowerCase().endsWith('.png')).map((e) => e.name);
  if (others.length) log.warn(`sequence ${name}: ${countEntries(others.length)} that ${others.length === 1 ? 'is' : 'are'} not a .png file skipped: ${someOf(others)}`);
}

/** --num_inference_steps means something to diffusion models only; say so rather than ignore it. */
async function warnIfStepsUnused(job: FramesJob): Promise<void> {
  if (job.model.diffusion?.steps === undefined) return;
  // a model.json describes a frame graph; diffusion models are exports findModel does not find
  const manifest = await findModel(job.model.id, job.model.modelDirs).catch(() => undefined);
  if (manifest) job.log.warn(`--num_inference_steps: model ${manifest.id} is not a diffusion model; ignored`);
}

/**
 * `stream-sr frames`: every sequence folder of inPath upscaled as its own causal stream (the
 * history starts empty in each), written under the same file names in the reference tool's
 * layout, outPath/<name of inPath>/<seq>/. The model is loaded once for all sequences.
 */
export async function runFramesJob(job: FramesJob): Promise<{ sequences: SequenceResult[]; exitCode: number }> {
  const { log } = job;
  const parent = layoutParentName(job.inPath);
  const plan = (await listSequences(job.inPath, log)).map((name) => ({ name, source: join(job.inPath, name), target: join(job.outPath, parent, name) }));
  await checkTargets(plan, job.overwrite);
  await warnIfStepsUnused(job);
  const model = await openModel(job.model.id, job.model, log, true);
  const signals = new StopSignals((sig) => log.info(`${sig}: finishing the frames in flight of this sequence (again to stop at once)`));
  const sequences: SequenceResult[] = [];
  try {
    for (const { name, source: dir, target } of plan) {
      if (signals.signal.aborted) break;
      await warnAboutOtherFiles(dir, name, log);
      const source = new PngFolderSource({ dir });
      const sink = new PngFolderSink({ dir: target, nameOf: (i) => source.fileNames[i]!, stats: new RunStats() });
      const summary = await runPipeline({ source, model: keptOpen(model), sink, maxInFlight: job.maxInFlight, signal: signals.signal, hardSignal: signals.hardSignal, log });
      sequences.push({ name, target, frames: summary.framesOut });
      log.info(`Upscaled ${name} (${summary.framesOut} frames, ${summary.input.width}x${summary.input.height} → ${summary.output.width}x${summary.output.height}) and saved to ${target}${summary.state === 'aborted' ? ' (stopped early)' : ''}`);
    }
  } finally {
    signals.dispose();
    await model.dispose().catch(() => undefined);
  }
  return { sequences, exitCode: signals.exitCode() ?? 0 };
}
