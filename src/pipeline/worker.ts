/**
 * One pipeline in its own process, started by the service (`serve`, `run`) over Node IPC. A
 * native crash in FFmpeg or ONNX Runtime then takes down this pipeline only; the service restarts
 * it. The worker ignores terminal signals (the service decides): 'stop' drains (the source stops,
 * frames in flight finish, outputs are finalized), 'abort' finalizes at once, and losing the
 * service drains too.
 */
import { stderrLogger } from '../core/log.js';
import { errorMessage, PipelineError, StoppedBeforeStartError, UnwritableOutputError, UsageError } from '../core/errors.js';
import { RunStats } from '../core/stats.js';
import { PreviewEncoder } from '../preview/preview-encoder.js';
import { PreviewTap } from '../preview/preview-tap.js';
import { RunMeter } from './run-meter.js';
import { runSpec } from './run-spec.js';
import { refuseExistingOutputs } from './output-check.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

const soft = new AbortController();
const hard = new AbortController();
const send = (msg: FromWorker): void => void process.send?.(msg);
const log = stderrLogger(process.env.STREAM_SR_LOG_LEVEL === 'verbose' ? 'verbose' : 'info');
const previews = new PreviewEncoder();
const preview = new PreviewTap((pair) => {
  void previews.encode(pair).then(
    (p) => p && send({ type: 'preview', index: p.index, width: p.width, height: p.height, before: p.before.toString('base64'), after: p.after.toString('base64') }),
    (err: unknown) => log.warn(`preview: ${errorMessage(err)}`),
  );
});

process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
process.on('disconnect', () => soft.abort(new Error('the service went away')));
process.on('message', (msg: ToWorker) => {
  if (msg.type === 'start') void run(msg);
  else if (msg.type === 'stop') soft.abort(new Error('stopped'));
  else if (msg.type === 'preview') preview.watch();
  else if (msg.type === 'abort') (soft.abort(new Error('aborted')), hard.abort(new Error('aborted')));
});

async function run(msg: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  const stats = new RunStats();
  const meter = new RunMeter(stats);
  const ticker = setInterval(() => send({ type: 'metrics', metrics: meter.snapshot(), previewCopies: preview.copies }), 1000);
  let ended: FromWorker;
  try {
    if (!msg.replaceOutputs) refuseExistingOutputs(msg.spec);
    const { summary } = await runSpec(msg.spec, {
      log,
      stats,
      meter,
      signal: soft.signal,
      onSourceFrame: (frame) => preview.onSource(frame),
      onFrame: (frame) => preview.onOutput(frame),
      hardSignal: hard.signal,
      onDescribe: (line) => {
        log.info(line);
        send({ type: 'started', description: line });
      },
    });
    if (summary.modelReport) log.info(summary.modelReport);
    ended = { type: 'ended', state: summary.state === 'completed' ? 'completed' : 'aborted', metrics: meter.snapshot(), previewCopies: preview.copies };
  } catch (err) {
    if (err instanceof StoppedBeforeStartError) {
      // stopped (as asked) while the input was still connecting or waiting for its sender: not a failure
      log.info(errorMessage(err));
      ended = { type: 'ended', state: 'aborted', metrics: meter.snapshot(), previewCopies: preview.copies };
    } else {
      // the service reports the failure (once, with what it does next: restart or not)
      const where = err instanceof PipelineError ? `error in ${err.stage}: ` : err instanceof UsageError ? '' : 'internal error: ';
      ended = { type: 'ended', state: 'failed', error: `${where}${errorMessage(err)}`, ...(err instanceof UnwritableOutputError ? { lasting: true } : {}), metrics: meter.snapshot(), previewCopies: preview.copies };
    }
  } finally {
    clearInterval(ticker);
  }
  await new Promise<void>((resolve) => (process.send ? process.send(ended, () => resolve()) : resolve()));
  if (process.connected) process.disconnect();
  process.exitCode = ended.state === 'failed' ? 1 : 0;
}
