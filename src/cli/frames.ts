import type { Argv, ArgumentsCamelCase, CommandModule } from 'yargs';
import { DEFAULTS } from '../core/defaults.js';
import { UsageError } from '../core/errors.js';
import type { Device } from '../inference/providers.js';
import type { ModelSpec } from '../pipeline/spec.js';
import { runFramesJob } from '../pipeline/frames-job.js';
import { loggerFromArgs, logOptions } from './common-options.js';
import { modelOptions, modelSpecFrom, modelValuesFromArgs } from '../pipeline/model-options.js';
import { reportError } from './errors.js';

/** The reference tool's PyTorch weight options: meaningless for exported ONNX models. */
const TORCH_WEIGHTS = ['unet_pretrained_weight', 'controlnet_pretrained_weight', 'temporal_vae_pretrained_weight'] as const;

function builder(y: Argv) {
  let b = logOptions(modelOptions(y))
    .alias('model', 'model_id')
    .option('in_path', { alias: 'in-path', type: 'string', demandOption: true, describe: 'folder of sequence folders: DIR/<seq>/*.png' })
    .option('out_path', { alias: 'out-path', type: 'string', default: DEFAULTS.framesOutPath, describe: 'results go to OUT/<name of in_path>/<seq>/, same file names' })
    .option('num_inference_steps', { type: 'number', describe: 'denoising steps of a diffusion model (Stream-DiffVSR: 4)' })
    .option('enable_tensorrt', { type: 'boolean', default: false, describe: 'same as --device tensorrt' })
    .option('overwrite', { alias: 'y', type: 'boolean', default: false, describe: 'replace existing result files' });
  for (const name of TORCH_WEIGHTS) b = b.option(name, { type: 'string', hidden: true });
  return b
    .example('$0 frames --in_path LR/ --out_path results/', 'results/LR/<seq>/<same names>.png, x4 with the default model')
    .example('$0 frames --in_path LR --out_path out --model_id models/stream-diffvsr/model.json --num_inference_steps 4', "as the reference tool's inference.py");
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

function device(args: Args): Device {
  if (!args.enable_tensorrt) return args.device as Device;
  if (args.device !== 'cpu' && args.device !== 'tensorrt') throw new UsageError(`--enable_tensorrt means --device tensorrt, not --device ${args.device}`);
  return 'tensorrt';
}

/** The model options, with the reference tool's names (--num_inference_steps, --enable_tensorrt) folded in. */
function modelSpecOf(args: Args): ModelSpec {
  const used = TORCH_WEIGHTS.find((name) => args[name] !== undefined);
  if (used) throw new UsageError(`--${used}: stream-sr runs exported ONNX models, not PyTorch weights; export the model and pass its folder or model.json as --model_id`);
  // --steps is checked with the other model options; its reference-tool name here
  const steps = args.num_inference_steps;
  if (steps !== undefined && (!Number.isInteger(steps) || steps < 1)) throw new UsageError(`--num_inference_steps ${steps}: must be a whole number of at least 1`);
  return modelSpecFrom({ ...modelValuesFromArgs(args), device: device(args), ...(steps !== undefined ? { steps } : {}) });
}

async function handler(args: Args): Promise<void> {
  const log = loggerFromArgs(args);
  try {
    const result = await runFramesJob({
      inPath: args.in_path,
      outPath: args.out_path,
      model: modelSpecOf(args),
      overwrite: args.overwrite,
      maxInFlight: DEFAULTS.maxInFlight,
      log,
    });
    const frames = result.sequences.reduce((n, s) => n + s.frames, 0);
    log.info(`${result.sequences.length} sequences, ${frames} frames`);
    process.exitCode = result.exitCode;
  } catch (err) {
    process.exitCode = reportError(err, args.verbose);
  }
}

export const framesCommand: CommandModule<object, Args> = {
  command: 'frames',
  describe: "upscale folders of PNG sequences as the Stream-DiffVSR reference tool does (--in_path/--out_path)",
  builder: builder as unknown as CommandModule<object, Args>['builder'],
  handler,
};
