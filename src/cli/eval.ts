import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, extname } from 'node:path';
import type { Argv, ArgumentsCamelCase, CommandModule } from 'yargs';
import { SinkError, UsageError, errorMessage } from '../core/errors.js';
import { qualityReportHtml } from '../report/quality-report.js';
import { evaluate, type EvalReport } from '../metrics/evaluate.js';
import type { FrameScores } from '../metrics/frame-scores.js';
import { reportError } from './errors.js';
import { finiteOrNull, fixedOrInf } from '../metrics/format.js';

function builder(y: Argv) {
  return y
    .option('ref', { type: 'string', demandOption: true, describe: 'ground truth: video, image, or folder of PNG frames' })
    .option('test', { type: 'string', array: true, demandOption: true, describe: 'output to score (same forms): same size and frame count; several --test compare several models' })
    .option('label', { type: 'string', array: true, default: [] as string[], describe: 'a name for each --test in the output (default: its file name)' })
    .option('input', { type: 'string', describe: 'the low-resolution input the models were given: --html shows its crops scaled up with bicubic ("before")' })
    .option('html', { type: 'string', describe: 'also write a self-contained HTML report here: per-frame PSNR-Y/SSIM-Y charts, flicker, full-size crops where the outputs differ most' })
    .option('crop', { type: 'number', default: 0, describe: 'pixels left out at each edge (e.g. the scale factor)' })
    .option('json', { type: 'boolean', default: false, describe: 'print the whole report as JSON' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'stack traces on crashes' })
    .example('$0 eval --ref gt.mkv --test out.mkv', 'PSNR/SSIM on BT.601 Y and RGB, per frame and mean, and temporal flicker')
    .example('$0 eval --ref gt.mkv --test out.mkv --crop 4 --json', 'as VSR papers often crop, as JSON')
    .example('$0 eval --ref gt.mkv --input lr.mkv --test a.mkv --test b.mkv --html report.html', 'two models compared in one HTML report');
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

const row = (label: string, f: Omit<FrameScores, 'n' | 'mseY' | 'mseRgb'>): string =>
  `${label.padStart(5)}  ${fixedOrInf(f.psnrY, 4).padStart(8)}  ${f.ssimY.toFixed(6)}  ${fixedOrInf(f.psnrRgb, 4).padStart(8)}  ${f.ssimRgb.toFixed(6)}`;

function summary(r: EvalReport): string {
  const lines = [
    `${row('mean', r.mean)}`,
    `PSNR of the mean MSE (the 'average' ffmpeg's psnr filter prints): Y ${fixedOrInf(r.mean.pooledPsnrY, 4)} dB, RGB ${fixedOrInf(r.mean.pooledPsnrRgb, 4)} dB`,
  ];
  const f = r.flicker;
  lines.push(f ? `temporal flicker: ${f.difference >= 0 ? '+' : ''}${f.difference.toFixed(3)} (mean |frame - previous| over RGB: test ${f.test.toFixed(3)}, ref ${f.ref.toFixed(3)}, in 0..255)` : 'temporal flicker: n/a (one frame)');
  return lines.join('\n') + '\n';
}

async function scoreOne(args: Args, test: string, label: string | undefined): Promise<EvalReport> {
  let headerDone = false;
  if (label !== undefined && !args.json) process.stdout.write(`== ${label} (${test})\n`);
  const report = await evaluate({
    ref: args.ref,
    test,
    crop: args.crop,
    onFrame: (f) => {
      if (args.json) return;
      if (!headerDone) process.stdout.write(`    n    PSNR-Y    SSIM-Y  PSNR-RGB  SSIM-RGB   (BT.601 Y; dB)\n`);
      headerDone = true;
      process.stdout.write(row(String(f.n), f) + '\n');
    },
  });
  if (!args.json) process.stdout.write(summary(report) + `${report.frames} frames of ${report.width}x${report.height}${report.crop ? `, ${report.crop} px cropped at each edge` : ''}\n`);
  return report;
}

/** The HTML report's path: in a folder that exists and can be written, not a folder itself. */
function checkReportTarget(path: string): void {
  const dir = dirname(path);
  if (!existsSync(dir)) throw new UsageError(`--html ${path}: folder ${dir} does not exist`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`--html ${path}: is a directory`);
  try {
    accessSync(existsSync(path) ? path : dir, constants.W_OK);
  } catch {
    throw new UsageError(`--html ${path}: not writable`);
  }
}

/** 'vid4_walk/gt.mkv' rather than a bare 'gt.mkv' */
const refName = (ref: string): string => `${basename(dirname(ref))}/${basename(ref)}`;

async function handler(args: Args): Promise<void> {
  try {
    const tests = args.test;
    if (args.label.length > tests.length) throw new UsageError(`${args.label.length} --label for ${tests.length} --test`);
    const labels = tests.map((t, i) => args.label[i] ?? basename(t, extname(t)));
    // before the scoring, which can take minutes: where the report goes
    if (args.html) checkReportTarget(args.html);
    const reports: EvalReport[] = [];
    // one --test prints as it always has; several are each headed by their label
    for (const [i, test] of tests.entries()) reports.push(await scoreOne(args, test, tests.length > 1 ? labels[i] : undefined));
    if (args.json) process.stdout.write(JSON.stringify(tests.length > 1 ? reports : reports[0], finiteOrNull, 2) + '\n');
    if (args.html) {
      const html = await qualityReportHtml({
        title: `Quality report: ${refName(args.ref)}`,
        conditions: [['ground truth', args.ref], ...(args.input ? [['input', args.input] as const] : []), ...tests.map((t, i) => [labels[i]!, t] as const), ['edge crop for the scores', `${args.crop} px`], ['written', new Date().toISOString()]],
        sections: [{ title: refName(args.ref), gt: args.ref, ...(args.input ? { input: args.input } : {}), models: reports.map((report, i) => ({ label: labels[i]!, path: tests[i]!, report })) }],
      });
      try {
        await writeFile(args.html, html);
      } catch (err) {
        throw new SinkError(`--html ${args.html}: cannot write the report: ${errorMessage(err)}`, { cause: err });
      }
      process.stderr.write(`wrote ${args.html} (${(html.length / 1024).toFixed(0)} KiB)\n`);
    }
  } catch (err) {
    process.exitCode = reportError(err, args.verbose);
  }
}

export const evalCommand: CommandModule<object, Args> = {
  command: 'eval',
  describe: 'score an output against ground truth: PSNR/SSIM (BT.601 Y and RGB) and temporal flicker',
  builder: builder as unknown as CommandModule<object, Args>['builder'],
  handler,
};
