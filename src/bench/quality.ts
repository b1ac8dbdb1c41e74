import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, relative } from 'node:path';
import { execFileSync } from 'node:child_process';
import { UsageError, errorMessage } from '../core/errors.js';
import { stderrLogger } from '../core/log.js';
import { packageRoot } from '../core/package-root.js';
import { evaluate, type EvalReport } from '../metrics/evaluate.js';
import { qualityReportHtml, type ReportModel } from '../report/quality-report.js';
import { findModel, searchPath } from '../models/registry.js';
import { runUpscaleJob } from '../pipeline/upscale-job.js';
import { modelSpecFrom } from '../pipeline/model-options.js';
import { qualityMarkdown, type QualityRow } from './quality-table.js';
import { finiteOrNull } from '../metrics/format.js';

/**
 * `make quality`: every listed model on every Vid4 sequence of the shared data, x4: PSNR-Y,
 * SSIM-Y and flicker against the GT, and seconds per frame on this machine. A model that is not
 * installed is reported as missing, never as a number. Writes <out>.md, <out>.json and <out>.html
 * (per-frame charts, flicker and full-size crops of every model that ran, per sequence).
 *
 *   node dist/src/bench/quality.js --models bicubic,esrgan-slim --data ../shared/data --out bench/quality
 *
 * `ID@PRECISION` (causal-sr@int8) runs a model's weights of that precision, named so in the table.
 */
const DEFAULT_MODELS = ['bicubic', 'causal-sr@fp32', 'causal-sr@int8', 'esrgan-slim', 'esrgan-medium', 'realesr-general-x4v3'];
const SEQUENCES = ['vid4_walk', 'vid4_city'];
/**
 * Each sequence's LR as given, and as a camera or a feed delivers it: H.264 (libx264 crf 23), so
 * the table shows how much of the gain over bicubic a model keeps on compressed input.
 */
const COMPRESSED = { label: 'H.264 crf 23', args: ['-c:v', 'libx264', '-crf', '23', '-preset', 'medium', '-pix_fmt', 'yuv420p'] };
interface Input {
  readonly sequence: string;
  /** The row's sequence label: the sequence, with the encoding of its LR where it is not the original. */
  readonly label: string;
  readonly lr: string;
  readonly gt: string;
}

function inputsOf(data: string, work: string): Input[] {
  return SEQUENCES.flatMap((sequence) => {
    const lr = join(data, sequence, 'lr_x4.mkv');
    const gt = join(data, sequence, 'gt.mkv');
    const compressed = join(work, `${sequence}-lr-x264-crf23.mkv`);
    if (!existsSync(compressed)) execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', lr, ...COMPRESSED.args, compressed]);
    return [{ sequence, label: sequence, lr, gt }, { sequence, label: `${sequence}, ${COMPRESSED.label}`, lr: compressed, gt }];
  });
}
const SCALE = 4;
const CROP = 4;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const log = stderrLogger('warning');

/** Each sequence's scored outputs, for the HTML report. */
const scored = new Map<string, ReportModel[]>();

async function scoreOne(id: string, precision: string | undefined, label: string, input: Input, work: string): Promise<QualityRow> {
  const { lr, gt, label: sequence } = input;
  const output = join(work, `${label.replace(/[^\w.-]+/g, '_')}-${sequence.replace(/[^\w.-]+/g, '_')}.mkv`);
  const t0 = performance.now();
  const { summary } = await runUpscaleJob({
    input: lr, output, model: modelSpecFrom({ id, scale: SCALE, ...(precision ? { precision } : {}) }), encoder: { codec: 'ffv1' }, overwrite: true, maxInFlight: 2, progress: false, log,
  });
  const seconds = (performance.now() - t0) / 1000;
  const frames = summary.framesOut;
  const report: EvalReport = await evaluate({ ref: gt, test: output, crop: CROP });
  scored.set(sequence, [...(scored.get(sequence) ?? []), { label, path: output, report }]);
  const { psnrY, ssimY, psnrRgb, ssimRgb } = report.mean;
  return { model: label, sequence, status: 'ok', frames, psnrY, ssimY, psnrRgb, ssimRgb, flicker: report.flicker, secondsPerFrame: seconds / frames, modelSecondsPerFrame: summary.stats.stageMs('infer') / 1000 / frames };
}

/** A model named by a manifest path is listed under the id its manifest gives. */
async function rowsFor(model: string, inputs: readonly Input[], work: string): Promise<QualityRow[]> {
  const [id, precision] = model.split('@') as [string, string | undefined];
  let label: string;
  try {
    const manifest = await findModel(id);
    label = (manifest.id === id ? id : `${manifest.id} (${id})`) + (precision ? ` ${precision}` : '');
  } catch (err) {
    const reason = err instanceof UsageError && /^unknown model/.test(err.message) ? `not installed (searched ${searchPath().map((d) => relative(packageRoot(), d) || '.').join(', ')})` : errorMessage(err);
    return inputs.map((input) => ({ model, sequence: input.label, status: 'missing' as const, reason }));
  }
  const rows: QualityRow[] = [];
  for (const input of inputs) {
    process.stderr.write(`quality: ${label} on ${input.label}\n`);
    rows.push(await scoreOne(id, precision, label, input, work).catch((err: unknown): QualityRow => ({ model: label, sequence: input.label, status: 'failed', reason: errorMessage(err) })));
  }
  return rows;
}

function version(): string {
  try {
    return execFileSync('git', ['-C', packageRoot(), 'describe', '--always', '--dirty'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const models = option('models', DEFAULT_MODELS.join(',')).split(',').filter(Boolean);
  const data = option('data', process.env.STREAM_SR_SHARED_DATA ?? join(packageRoot(), '..', 'shared', 'data'));
  const out = option('out', join(packageRoot(), 'bench', 'quality'));
  const missing = SEQUENCES.flatMap((s) => [join(data, s, 'lr_x4.mkv'), join(data, s, 'gt.mkv')]).filter((p) => !existsSync(p));
  if (missing.length) throw new Error(`the Vid4 test data is missing (${missing.join(', ')}); pass --data DIR or set STREAM_SR_SHARED_DATA`);
  const work = join(packageRoot(), 'out', 'quality');
  await mkdir(work, { recursive: true });
  const inputs = inputsOf(data, work);
  const rows: QualityRow[] = [];
  for (const model of models) rows.push(...(await rowsFor(model, inputs, work)));
  const cpu = cpus();
  const conditions = { scale: SCALE, crop: CROP, machine: `${cpu.length} x ${cpu[0]?.model.trim() ?? 'CPU'}, CPU execution`, date: new Date().toISOString().slice(0, 10), version: version() };
  const markdown = qualityMarkdown(rows, conditions);
  await mkdir(join(out, '..'), { recursive: true });
  await writeFile(`${out}.md`, markdown);
  await writeFile(`${out}.json`, JSON.stringify({ conditions, rows }, finiteOrNull, 2) + '\n');
  const sections = inputs.filter((i) => scored.get(i.label)?.length).map((i) => ({ title: i.label, gt: i.gt, input: i.lr, models: scored.get(i.label)! }));
  if (sections.length) {
    const html = await qualityReportHtml({
      title: `stream-sr quality on Vid4, x${SCALE}`,
      conditions: [['machine', conditions.machine], ['date', conditions.date], ['version', conditions.version], ['edge crop for the scores', `${CROP} px`], ['models', rows.filter((r) => r.status !== 'ok').map((r) => `${r.model}: ${r.status}`).filter((v, i, a) => a.indexOf(v) === i).join('; ') || 'all ran']],
      sections,
    });
    await writeFile(`${out}.html`, html);
  }
  process.stdout.write(markdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`quality: ${errorMessage(err)}\n`);
  process.exitCode = 1;
});
