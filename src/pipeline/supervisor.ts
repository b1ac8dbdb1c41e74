import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Backoff } from '../core/backoff.js';
import type { Logger } from '../core/log.js';
import { isLiveUrl } from '../sources/live-options.js';
import { PipelineHistory } from '../service/history.js';
import { PreviewStore } from '../service/preview-store.js';
import { EMPTY_METRICS, type MetricsSnapshot } from './run-meter.js';
import type { PipelineSpec } from './spec.js';
import { existingOutputRefusal } from './output-check.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

export type PipelineState = 'idle' | 'starting' | 'running' | 'reconnecting' | 'restarting' | 'stopping' | 'stopped' | 'completed' | 'failed';

/** What the API reports about one pipeline. */
export interface PipelineStatus {
  readonly id: string;
  readonly state: PipelineState;
  readonly description: string | null;
  readonly restarts: number;
  readonly lastError: { readonly message: string; readonly at: string } | null;
  /** The process id of the pipeline's worker while one runs. */
  readonly pid: number | null;
  /** This run's rates and latency; counters summed over every run since the service started. */
  readonly metrics: MetricsSnapshot;
}

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'worker.js');
/** A run that delivered frames for this long counts as healthy: the restart backoff starts over. */
const HEALTHY_MS = 10_000;
const STOP_GRACE_MS = 30_000;
/**
 * A worker that died without its final report wrote up to a metrics interval (1 s) and the frames
 * in flight past its last report: a restart resumes this far beyond, so timestamps never go back.
 */
export const UNREPORTED_MARGIN_US = 2_000_000;

function addCounters(a: MetricsSnapshot, b: MetricsSnapshot): MetricsSnapshot {
  return {
    ...b,
    framesIn: a.framesIn + b.framesIn,
    framesOut: a.framesOut + b.framesOut,
    framesDropped: a.framesDropped + b.framesDropped,
    modelFrames: a.modelFrames + b.modelFrames,
    fallbackFrames: a.fallbackFrames + b.fallbackFrames,
    reconnects: a.reconnects + b.reconnects,
    latencyCount: a.latencyCount + b.latencyCount,
    latencySumMs: a.latencySumMs + b.latencySumMs,
  };
}

/**
 * One pipeline under supervision, run in its own worker process so that one pipeline's failure
 * (even a native crash) never stops another. A failed run is restarted with exponential backoff
 * and its error kept; stop() drains it (outputs finalized).
 */
export class SupervisedPipeline {
  state: PipelineState = 'idle';
  restarts = 0;
  lastError: PipelineStatus['lastError'] = null;
  /** The last start was refused (a user error: an output it may not replace). */
  refused = false;
  private description: string | null = null;
  private worker: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private current: MetricsSnapshot = EMPTY_METRICS;
  private totals: MetricsSnapshot = EMPTY_METRICS;
  private readonly backoff: Backoff;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopRequested = false;
  private runStartedAt = 0;
  /** Where the outputs' timeline ended so far (µs): a restarted live pipeline continues from there. */
  private outputEndUs = 0;
  private readonly listeners = new Set<(state: PipelineState) => void>();
  /** Recent rates, latency, drops and log lines, for the console. */
  readonly history = new PipelineHistory();
  /** The latest before/after pictures, taken only while someone asks for them. */
  readonly preview = new PreviewStore((msg) => Boolean(this.worker && post(this.worker, msg)));

  constructor(
    readonly spec: PipelineSpec,
    private readonly log: Logger,
    /** Where the outputs' timeline ended in an earlier run elsewhere (a pipeline taken over from another machine), µs. */
    resumeFromUs = 0,
  ) {
    this.backoff = new Backoff(spec.restart);
    this.outputEndUs = resumeFromUs;
  }

  /** Where the outputs' timeline has reached (µs): what a run elsewhere continues from. */
  get outputEnd(): number {
    return this.outputEndUs;
  }

  /** The process id of the pipeline's own process while one runs. */
  get pid(): number | undefined {
    return this.worker?.pid;
  }

  get id(): string {
    return this.spec.id;
  }

  private get restartEnabled(): boolean {
    return this.spec.restart.enabled ?? isLiveUrl(this.spec.source.url);
  }

  status(): PipelineStatus {
    const running = this.state === 'running' || this.state === 'reconnecting' || this.state === 'starting' || this.state === 'stopping';
    const metrics = addCounters(this.totals, running ? this.current : { ...this.current, inputFps: 0, outputFps: 0 });
    return { id: this.id, state: this.state, description: this.description, restarts: this.restarts, lastError: this.lastError, pid: this.worker?.pid ?? null, metrics };
  }

  /** Calls `fn` on every state change (for `run` and tests). */
  onState(fn: (state: PipelineState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** A live input lost and being reconnected: 'reconnecting' with the error, then 'running' again. */
  private inputDown(why: string | null): void {
    if (why !== null && (this.state === 'running' || this.state === 'starting')) {
      this.lastError = { message: why, at: new Date().toISOString() };
      this.setState('reconnecting');
    } else if (why !== null && this.state === 'reconnecting' && this.lastError?.message !== why) {
      this.lastError = { message: why, at: new Date().toISOString() };
    } else if (why === null && this.state === 'reconnecting') {
      this.setState('running');
    }
  }

  /** The one report of what happened to a run: on the service's log, and in the pipeline's history for the console. */
  private say(level: 'error' | 'warn', message: string): void {
    this.log[level](`${this.id}: ${message}`);
    this.history.log(`${level === 'warn' ? 'warning' : level}: ${message}`);
  }

  private setState(state: PipelineState): void {
    this.state = state;
    this.history.log(`state: ${state}`);
    for (const fn of this.listeners) fn(state);
  }

  /** Why start() would fail at once (a finished output it may not replace), or null. */
  startRefusal(): string | null {
    return this.worker ? null : existingOutputRefusal(this.spec);
  }

  /**
   * Starts the pipeline (again); a pending restart is brought forward. `automatic`: a restart after
   * a failure, which may replace the output of the run it retries.
   */
  start(automatic = false): void {
    if (this.worker) return;
    clearTimeout(this.restartTimer);
    this.stopRequested = false;
    const refusal = automatic ? null : existingOutputRefusal(this.spec);
    this.refused = refusal !== null;
    if (refusal) {
      // a user error: reported, never retried (a retry would replace the file)
      this.lastError = { message: refusal, at: new Date().toISOString() };
      this.say('error', refusal);
      return this.setState('failed');
    }
    this.setState('starting');
    this.current = EMPTY_METRICS;
    this.runStartedAt = performance.now();
    const worker = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'], detached: true, serialization: 'json' });
    this.worker = worker;
    worker.stderr!.setEncoding('utf8');
    let partial = '';
    worker.stderr!.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line) continue;
        process.stderr.write(`[${this.id}] ${line}\n`);
        this.history.log(line);
      }
    });
    let ended: Extract<FromWorker, { type: 'ended' }> | undefined;
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'started') {
        this.description = msg.description;
        if (this.state === 'starting' || this.state === 'reconnecting') this.setState('running');
      } else if (msg.type === 'metrics') {
        this.current = msg.metrics;
        this.outputEndUs = Math.max(this.outputEndUs, msg.metrics.outputEndUs);
        this.inputDown(msg.metrics.inputDown);
        this.preview.setRunCopies(msg.previewCopies ?? 0);
        this.history.sample(this.status());
        if (msg.metrics.framesOut > 0 && performance.now() - this.runStartedAt > HEALTHY_MS) this.backoff.reset();
      } else if (msg.type === 'ended') {
        ended = msg;
        this.current = msg.metrics;
        this.outputEndUs = Math.max(this.outputEndUs, msg.metrics.outputEndUs);
        this.preview.setRunCopies(msg.previewCopies ?? 0);
      } else if (msg.type === 'preview') {
        this.preview.put(msg);
      }
    });
    this.exited = new Promise((resolve) => {
      worker.once('exit', (code, signal) => {
        this.worker = undefined;
        this.finished(ended, code, signal);
        resolve();
      });
    });
    // timestamps continue where the previous run's output ended (HLS players and muxers downstream
    // see one timeline; the playlist marks the seam with #EXT-X-DISCONTINUITY)
    const spec: PipelineSpec = { ...this.spec, live: { ...this.spec.live, timelineStartUs: this.outputEndUs } };
    post(worker, { type: 'start', spec, replaceOutputs: automatic } satisfies ToWorker);
  }

  private finished(ended: Extract<FromWorker, { type: 'ended' }> | undefined, code: number | null, signal: NodeJS.Signals | null): void {
    if (!ended && this.outputEndUs > 0) this.outputEndUs += UNREPORTED_MARGIN_US;
    this.totals = addCounters(this.totals, this.current);
    this.preview.runEnded();
    this.current = { ...EMPTY_METRICS, latencyP50Ms: this.current.latencyP50Ms, latencyP95Ms: this.current.latencyP95Ms };
    if (this.stopRequested) return this.setState('stopped');
    if (ended && ended.state !== 'failed') return this.setState(ended.state === 'completed' ? 'completed' : 'stopped');
    const message = ended?.error ?? `the pipeline's process ended unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`})`;
    this.lastError = { message, at: new Date().toISOString() };
    // a failure that a restart cannot fix (an output that cannot be written) is reported once
    const delay = this.restartEnabled && !ended?.lasting ? this.backoff.nextDelay() : undefined;
    if (delay === undefined) {
      this.say('error', `${message}${!this.restartEnabled ? '' : ended?.lasting ? '; not restarted (a restart cannot fix this)' : '; giving up'}`);
      return this.setState('failed');
    }
    this.say('warn', `${message}; restarting in ${(delay / 1000).toFixed(1)} s`);
    this.setState('restarting');
    this.restartTimer = setTimeout(() => {
      this.restarts++;
      this.start(true);
    }, delay);
  }

  /** Drains the pipeline: its source stops, frames in flight finish, outputs are finalized. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) {
      if (this.state === 'restarting' || this.state === 'idle') this.setState('stopped');
      return;
    }
    this.setState('stopping');
    post(worker, { type: 'stop' } satisfies ToWorker);
    const grace = setTimeout(() => worker.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(grace);
  }

  /** Finalizes at once, dropping frames in flight (a second Ctrl-C). */
  abort(): void {
    if (this.worker) post(this.worker, { type: 'abort' } satisfies ToWorker);
  }
}

/**
 * Sends `msg` to a pipeline's process unless its channel is closed; false if not sent. A process
 * that ends as the message goes out (a failing pipeline between restarts, when SIGTERM comes) fails
 * the send with EPIPE: the callback takes that error, which would otherwise be an unhandled 'error'
 * event that ends `serve` itself, and the process's 'exit' handler reports the end as usual.
 */
function post(worker: ChildProcess, msg: ToWorker): boolean {
  if (!worker.connected) return false;
  worker.send(msg, () => undefined);
  return true;
}
