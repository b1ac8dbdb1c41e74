import type { Argv, CommandModule } from 'yargs';
import { StopSignals } from '../pipeline/signals.js';
import type { PipelineState } from '../pipeline/supervisor.js';
import { loggerFromArgs, logOptions } from './common-options.js';
import { reportError } from './errors.js';
import { supervise } from './serve.js';

const FINAL: readonly PipelineState[] = ['completed', 'failed', 'stopped'];

async function run(args: { pipeline: string; verbose: boolean; quiet: boolean }): Promise<number> {
  const log = loggerFromArgs(args);
  if (args.verbose) process.env.STREAM_SR_LOG_LEVEL = 'verbose';
  const [pipeline] = [...(await supervise([args.pipeline], log)).values()];
  const p = pipeline!;
  const signals = new StopSignals((sig) => {
    log.info(`${sig}: finishing the frames in flight and closing the outputs (again to stop at once)`);
    void p.stop();
  });
  signals.hardSignal.addEventListener('abort', () => p.abort());
  const final = await new Promise<PipelineState>((resolve) => {
    p.onState((state) => FINAL.includes(state) && resolve(state));
    p.start();
  }).finally(() => signals.dispose());
  const m = p.status().metrics;
  log.info(`${p.id}: ${final}; ${m.framesOut} frame${m.framesOut === 1 ? '' : 's'} written${p.restarts ? `, ${p.restarts} restart${p.restarts === 1 ? '' : 's'}` : ''}`);
  // the supervisor has reported why it failed
  if (final === 'failed') return p.refused ? 2 : 1;
  return signals.exitCode() ?? 0;
}

export const runCommand: CommandModule = {
  command: 'run <pipeline>',
  describe: 'run one pipeline file (YAML or JSON) in the foreground, restarting it on failure as the file says',
  builder: (y: Argv) => logOptions(y).positional('pipeline', { type: 'string', demandOption: true, describe: 'pipeline file' }).example('$0 run pipelines/camera-to-hls.yaml', ''),
  handler: async (args) => {
    try {
      process.exitCode = await run(args as unknown as Parameters<typeof run>[0]);
    } catch (err) {
      process.exitCode = reportError(err, Boolean(args.verbose));
    }
  },
};
