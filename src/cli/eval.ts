import type { Argv, ArgumentsCamelCase, CommandModule } from 'yargs';
import { evaluate, type EvalReport } from '../metrics/evaluate.js';
import type { FrameScores } from '../metrics/frame-scores.js';
import { reportError } from './errors.js';
import { finiteOrNull, fixedOrInf } from '../metrics/format.js';

function builder(y: Argv) {
  return y
    .option('ref', { type: 'string', demandOption: true, describe: 'ground truth: video, image, or folder of PNG frames' })
    .option('test', { type: 'string', demandOption: true, describe: 'output to score (same forms): same size and frame count' })
    .option('crop', { type: 'number', default: 0, describe: 'pixels left out at each edge (e.g. the scale factor)' })
    .option('json', { type: 'boolean', default: false, describe: 'print the whole report as JSON' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'stack traces on crashes' })
    .example('$0 eval --ref gt.mkv --test out.mkv', 'PSNR/SSIM on BT.601 Y and RGB, per frame and mean, and temporal flicker')
    .example('$0 eval --ref gt.mkv --test out.mkv --crop 4 --json', 'as VSR papers often crop, as JSON');
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

async function handler(args: Args): Promise<void> {
  try {
    let headerDone = false;
    const report = await evaluate({
      ref: args.ref,
      test: args.test,
      crop: args.crop,
      onFrame: (f) => {
        if (args.json) return;
        if (!headerDone) process.stdout.write(`    n    PSNR-Y    SSIM-Y  PSNR-RGB  SSIM-RGB   (BT.601 Y; dB)\n`);
        headerDone = true;
        process.stdout.write(row(String(f.n), f) + '\n');
      },
    });
    if (args.json) process.stdout.write(JSON.stringify(report, finiteOrNull, 2) + '\n');
    else process.stdout.write(summary(report) + `${report.frames} frames of ${report.width}x${report.height}${report.crop ? `, ${report.crop} px cropped at each edge` : ''}\n`);
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
