#!/usr/bin/env node
/**
 * `make bench` (models part): seconds per frame, peak RSS and the share of wall time inside
 * session.run for each model at 320x180 → 1280x720, each in its own process; then session.run
 * alone for esrgan-slim under the ONNX Runtime settings the defaults were chosen from.
 *
 *   node dist/src/bench/models-bench.js --input samples/sample-320x180.mp4 --out bench/models.json
 *        [--frames 20] [--models a,b] [--ncnn-dir ../shared/data/models/realesrgan] [--settings-runs 10]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { catalogEntry } from '../models/catalog.js';
import { convertNcnnVariants } from '../models/convert-catalog.js';
import { installModelDir } from '../models/install.js';
import { findModel } from '../models/registry.js';
import type { PipelineResult } from './pipeline-run.js';
import { VARIANTS, timeVariants, type VariantResult } from './ort-settings.js';

const MODELS = ['bicubic', 'causal-sr', 'esrgan-slim', 'esrgan-medium', 'realesr-general-x4v3', 'realesr-animevideov3'];
const NCNN: Record<string, Array<{ scale: number; name: string }>> = {
  'realesr-general-x4v3': [{ scale: 4, name: 'RealESRGAN_General_x4_v3' }],
  'realesr-animevideov3': [{ scale: 2, name: 'realesr-animevideov3-x2' }, { scale: 4, name: 'realesr-animevideov3-x4' }],
};

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Real-ESRGAN models that are not pulled are converted from local ncnn files into the bench folder. */
async function ensureModel(id: string, benchModels: string, ncnnDir: string | undefined): Promise<boolean> {
  if (await findModel(id, [benchModels]).then(() => true, () => false)) return true;
  const files = NCNN[id];
  if (!files || !ncnnDir || !existsSync(ncnnDir)) return false;
  await installModelDir(benchModels, id, (dir) =>
    convertNcnnVariants(catalogEntry(id)!, files.map((f) => ({ scale: f.scale, param: join(ncnnDir, `${f.name}.param`), bin: join(ncnnDir, `${f.name}.bin`) })), dir),
  );
  return true;
}

function runChild(model: string, input: string, frames: number, modelDir: string): PipelineResult {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'pipeline-run.js');
  const out = execFileSync(process.execPath, [script, '--model', model, '--scale', '4', '--input', input, '--frames', String(frames), '--model-dir', modelDir], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as PipelineResult;
}

function table(results: readonly PipelineResult[]): string {
  const rows = results.map((r) => `| ${r.model} | ${r.input} → ${r.output} | ${r.secondsPerFrame.toFixed(3)} | ${(1 / r.secondsPerFrame).toFixed(2)} | ${Math.round(r.peakRssMB)} | ${(100 * r.sessionRunShare).toFixed(1)}% | ${r.frames} |`);
  return ['| model | size | s/frame | fps | peak RSS MB | in session.run | frames |', '| --- | --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
}

function settingsTable(results: readonly VariantResult[]): string {
  const base = results[0]!.medianMs;
  const rows = results.map((r) => `| ${r.name} | ${r.medianMs.toFixed(0)} | ${r.minMs.toFixed(0)} | ${((100 * (r.medianMs - base)) / base).toFixed(1)}% |`);
  return ['| esrgan-slim x4, 320x180, session.run | median ms | min ms | vs default |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

const { values } = parseArgs({
  options: {
    input: { type: 'string', default: 'samples/sample-320x180.mp4' },
    out: { type: 'string', default: 'bench/models.json' },
    frames: { type: 'string', default: '20' },
    models: { type: 'string', default: MODELS.join(',') },
    'ncnn-dir': { type: 'string' },
    'settings-runs': { type: 'string', default: '10' },
  },
});
const benchModels = join(dirname(values.out!), 'models');
mkdirSync(benchModels, { recursive: true });
const results: PipelineResult[] = [];
for (const model of values.models!.split(',')) {
  if (!(await ensureModel(model, benchModels, values['ncnn-dir']))) {
    log(`${model}: not installed, skipped (make models; stream-sr models pull ${model}; or --ncnn-dir)`);
    continue;
  }
  log(`${model}: ${values.frames} frames of ${values.input} ...`);
  const r = runChild(model, values.input!, Number(values.frames), benchModels);
  log(`${model}: ${r.secondsPerFrame.toFixed(3)} s/frame, peak RSS ${Math.round(r.peakRssMB)} MB, ${(100 * r.sessionRunShare).toFixed(1)}% in session.run`);
  results.push(r);
}
const settings: VariantResult[] = [];
const runs = Number(values['settings-runs']);
if (runs > 0) {
  const slim = (await findModel('esrgan-slim')).variants.find((v) => v.scale === 4)!.file;
  settings.push(...(await timeVariants(slim, VARIANTS, 320, 180, 4, runs)));
}
writeFileSync(values.out!, JSON.stringify({ date: new Date().toISOString(), cpus: (await import('node:os')).cpus().length, pipelines: results, settings }, null, 2) + '\n');
process.stdout.write(`${table(results)}\n\n${settings.length ? settingsTable(settings) + '\n' : ''}`);
