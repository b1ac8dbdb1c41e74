import type { Frame, VideoInfo } from '../core/frame.js';
import type { Logger } from '../core/log.js';
import { Backoff, sleep } from '../core/backoff.js';
import { errorMessage, SourceError, StoppedBeforeStartError } from '../core/errors.js';
import { fromMicros, LiveTimeline } from '../core/timeline.js';
import { LiveConnection, type LiveVideo } from '../av/live-input.js';
import { nativePicture } from '../av/rgb-converter.js';
import { NegotiatedPictures } from './negotiated-pictures.js';
import { LiveQueue } from './live-queue.js';
import type { RunStats } from '../core/stats.js';
import { checkReachable } from './reachable.js';
import { listensForSender, liveInputOptions, type LiveSettings } from './live-options.js';
import type { CopyStream, ReadOptions, Source, SourceInfo } from './source.js';
import { creditedFrames } from './credited-frames.js';
import { DEFAULTS } from '../core/defaults.js';

export interface LiveSourceOptions {
  readonly input: string;
  readonly format?: string;
  /** FFmpeg demuxer/protocol options; they override the live defaults. */
  readonly options?: Readonly<Record<string, string>>;
  readonly live: LiveSettings;
  readonly log: Logger;
  /** Stops waiting for a source that is down (first connection and reconnects). */
  readonly signal?: AbortSignal;
  /** Where a source that is down before its first connection says why (RunStats.inputDown). */
  readonly stats?: RunStats;
}

type Queued = LiveVideo & { readonly index: number };

/**
 * A stream that never pauses and may drop out (RTSP, SRT, RTMP, UDP, live HLS). A reader keeps
 * pulling from the network whatever the model does and hands pictures over through a bounded queue:
 * under `drop` only the newest picture waits (older ones are dropped and counted, leaving gaps in
 * Frame.index), under `fallback` and `queue` up to --max-queue wait (fallback then drops, queue
 * fails). A lost stream is reopened with exponential backoff; the first picture after it carries
 * `discontinuity`, and timestamps continue where the previous connection ended.
 */
export class LiveSource implements Source {
  readonly label: string;
  private connection: LiveConnection | undefined;
  private info: VideoInfo | undefined;
  private copyStreams: readonly CopyStream[] = [];
  private readonly timeline: LiveTimeline;
  private readonly backoff: Backoff;
  private readonly stop = new AbortController();
  private reader: Promise<void> | undefined;
  private queue: LiveQueue<Queued> | undefined;
  /** The input has a known length (a finished HLS playlist): its end is the end, not a loss. */
  private finite = false;

  constructor(private readonly opts: LiveSourceOptions) {
    this.label = opts.input;
    this.backoff = new Backoff(opts.live.reconnect);
    this.timeline = new LiveTimeline(undefined, opts.live.timelineStartUs ?? 0);
    opts.signal?.addEventListener('abort', () => this.stop.abort(), { once: true });
  }

  async open(): Promise<SourceInfo> {
    const connection = await this.connect(undefined);
    if (!connection) throw new StoppedBeforeStartError(`input '${this.label}'`);
    if (this.opts.stats) this.opts.stats.inputDown = null;
    const { durationSeconds, ...video } = connection.input.video;
    this.finite = durationSeconds !== undefined;
    this.info = video;
    this.copyStreams = connection.input.copyStreams;
    connection.attach(this.copyStreams);
    this.connection = connection;
    const { ignored, interlaced } = connection.input;
    return { video, copyStreams: this.copyStreams, ignored, ...(interlaced ? { interlaced } : {}) };
  }

  /** Opens the input, retrying with backoff when reconnecting is on; undefined when stopped. */
  private async connect(read: ReadOptions | undefined): Promise<LiveConnection | undefined> {
    const { input, format, options, live, log } = this.opts;
    let waiting = false;
    for (;;) {
      if (this.stop.signal.aborted) return undefined;
      const t0 = performance.now();
      try {
        await checkReachable(input, live.readTimeoutMs);
        return await LiveConnection.open({ url: input, label: this.label, ...(format ? { format } : {}), options: liveInputOptions(input, live, options), timeline: this.timeline });
      } catch (err) {
        if (!read && live.reconnect.enabled && this.nothingSent(err, performance.now() - t0)) {
          // a listener before its first packet waits for its sender: said once, not a warning, not
          // a reason the input is down, no backoff (each open waits the read timeout itself)
          if (!waiting) log.info(`input '${this.label}': waiting for a sender`);
          waiting = true;
          continue;
        }
        const delay = live.reconnect.enabled ? this.backoff.nextDelay() : undefined;
        const why = errorMessage(err).replace(`input '${this.label}': `, '');
        if (delay === undefined) throw live.reconnect.enabled ? new SourceError(`input '${this.label}': gave up after ${this.backoff.attempts} reconnect attempts: ${why}`, { cause: err }) : err;
        log.warn(`${errorMessage(err)}; retrying in ${(delay / 1000).toFixed(1)} s`);
        read?.stats.count('reconnectAttempts');
        const stats = read?.stats ?? this.opts.stats;
        if (stats) stats.inputDown = errorMessage(err);
        if (!(await sleep(delay, this.stop.signal))) return undefined;
      }
    }
  }

  /** A listener's open that heard nothing for its whole read timeout: FFmpeg's I/O error then. */
  private nothingSent(err: unknown, waitedMs: number): boolean {
    return listensForSender(this.opts.input) && waitedMs >= this.opts.live.readTimeoutMs && /: Input\/output error$/.test(errorMessage(err));
  }

  async *frames(read: ReadOptions): AsyncGenerator<Frame, void, void> {
    const info = this.info;
    if (!info || !this.connection) throw new Error('LiveSource.frames() before open()');
    const queue = this.makeQueue(read);
    this.reader = this.readLoop(this.connection, queue, read);
    try {
      yield* this.takeFrames(queue, info, read);
    } finally {
      // stopped (SIGTERM, a stop request) with frames still waiting: they were counted in, so they
      // are counted as dropped, and so is anything the reader delivers until it has stopped
      if (read.signal.aborted) {
        queue.end();
        read.stats.count('framesDropped', queue.clear());
      }
    }
  }

  private async *takeFrames(queue: LiveQueue<Queued>, info: VideoInfo, read: ReadOptions): AsyncGenerator<Frame, void, void> {
    const toNegotiated = new NegotiatedPictures(info, (m) => this.opts.log.warn(m));
    yield* creditedFrames(read, async () => {
      const item = await queue.take(read.signal);
      if (item && read.signal.aborted) read.stats.count('framesDropped');
      if (!item || read.signal.aborted) return undefined;
      const { picture, changed } = await read.stats.time('convert', () => toNegotiated.convert(item.frame, `live input '${this.label}'`));
      if (read.signal.aborted) {
        read.stats.count('framesDropped'); // stopped while it was converted: it goes no further
        return undefined;
      }
      return {
        info,
        pts: fromMicros(item.ptsUs, info.timeBase),
        duration: fromMicros(item.durationUs, info.timeBase),
        index: item.index,
        layout: 'native' as const,
        picture: nativePicture(picture),
        arrivedAt: item.arrivedAt,
        ...(item.discontinuity || changed ? { discontinuity: true } : {}),
      };
    });
  }

  private makeQueue(read: ReadOptions): LiveQueue<Queued> {
    const { policy, maxQueue } = this.opts.live;
    const capacity = policy === 'drop' ? DEFAULTS.dropQueue : maxQueue;
    let warned = false;
    this.queue = new LiveQueue<Queued>(capacity, policy === 'queue' ? 'error' : 'drop-oldest', () => {
      read.stats.count('framesDropped');
      if (policy === 'fallback' && !warned) {
        warned = true;
        this.opts.log.warn(`${this.label}: even the fallback model is slower than the source; dropping the oldest frames beyond ${capacity} waiting`);
      }
    });
    return this.queue;
  }

  private async readLoop(first: LiveConnection, queue: LiveQueue<Queued>, read: ReadOptions): Promise<void> {
    let connection: LiveConnection | undefined = first;
    let index = 0;
    try {
      while (connection && !this.stop.signal.aborted && !read.signal.aborted) {
        const outcome = await this.pump(connection, queue, read, () => index++);
        connection.close();
        this.connection = connection = undefined;
        if (outcome.kind === 'stopped') break;
        if (!this.opts.live.reconnect.enabled || (outcome.kind === 'eof' && this.finite)) {
          queue.end(outcome.kind === 'error' ? outcome.error : undefined);
          return;
        }
        const why = `${this.label}: ${outcome.kind === 'error' ? errorMessage(outcome.error) : 'the stream ended'}`;
        read.stats.inputDown = why;
        this.opts.log.warn(`${why}; reconnecting`);
        connection = await this.reconnect(read);
      }
      queue.end();
    } catch (err) {
      queue.end(err);
    }
  }

  /** Reads one connection until it ends, fails, or the run stops. */
  private async pump(connection: LiveConnection, queue: LiveQueue<Queued>, read: ReadOptions, nextIndex: () => number): Promise<{ kind: 'eof' | 'stopped' } | { kind: 'error'; error: unknown }> {
    while (!this.stop.signal.aborted && !read.signal.aborted) {
      let items;
      try {
        items = await connection.read();
      } catch (error) {
        return { kind: 'error', error };
      }
      if (!items) return { kind: 'eof' };
      for (const item of items) {
        if (item.kind === 'copy') {
          read.onCopyPacket?.(item.packet);
          continue;
        }
        this.backoff.reset();
        read.stats.count('framesIn');
        const peak = queue.peak;
        if (!queue.push({ ...item, index: nextIndex() }) && read.signal.aborted) read.stats.count('framesDropped');
        if (queue.peak > peak) read.stats.count('queuePeak', queue.peak - peak);
      }
    }
    return { kind: 'stopped' };
  }

  private async reconnect(read: ReadOptions): Promise<LiveConnection | undefined> {
    const delay = this.backoff.nextDelay();
    if (delay === undefined) throw new SourceError(`input '${this.label}': lost, and gave up after ${this.backoff.attempts} reconnect attempts`);
    if (!(await sleep(delay, this.stop.signal))) return undefined;
    const connection = await this.connect(read);
    if (!connection) return undefined;
    for (const problem of connection.attach(this.copyStreams)) this.opts.log.warn(`${this.label}: ${problem}`);
    read.stats.count('reconnects');
    read.stats.inputDown = null;
    this.opts.log.info(`${this.label}: reconnected`);
    this.connection = connection;
    return connection;
  }

  /** Stops the reader (after its current read, which the read timeout bounds) and closes the input. */
  async close(): Promise<void> {
    this.stop.abort();
    this.queue?.end();
    await this.reader?.catch(() => undefined);
    this.connection?.close();
    this.connection = undefined;
  }
}
