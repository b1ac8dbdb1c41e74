import type { Beamcoder } from './beamcoder.js';
import { openInput, presentationTime, type CopyPacket, type CopyStream, type OpenedInput } from './input.js';
import { DecodeLoop } from './decode-loop.js';
import type { Rational } from '../core/rational.js';
import { fromMicros, isTimestamp, toMicros, type LiveTimeline } from '../core/timeline.js';

export interface LiveConnectionOptions {
  readonly url: string;
  readonly label: string;
  readonly format?: string;
  readonly options?: Readonly<Record<string, string>>;
  readonly timeline: LiveTimeline;
}

/** A decoded picture of a live stream, its time already on the source's continuous timeline. */
export interface LiveVideo {
  readonly kind: 'video';
  readonly frame: Beamcoder.Frame;
  /** Microseconds on the live timeline. */
  readonly ptsUs: number;
  readonly durationUs: number;
  readonly arrivedAt: number;
  /** First picture after a reconnect or a jump of the stream's clock. */
  readonly discontinuity: boolean;
}

export interface LiveCopy {
  readonly kind: 'copy';
  readonly packet: CopyPacket;
}

export type LiveItem = LiveVideo | LiveCopy;

/**
 * One connection to a live input. Decoding starts at the first video keyframe (packets before it
 * are dropped, audio too, so the output starts with a picture); every timestamp is put on the
 * shared timeline, and copied packets are rewritten into the time base of the stream they were
 * negotiated as (`attach`), so a reconnect is invisible to the muxer.
 */
export class LiveConnection {
  private readonly loop: DecodeLoop;
  private readonly copyTargets = new Map<number, CopyStream>();
  private readonly lastCopyUs = new Map<number, number>();
  private lastVideoUs: number | undefined;

  private constructor(
    readonly input: OpenedInput,
    private readonly timeline: LiveTimeline,
    label: string,
  ) {
    this.loop = new DecodeLoop(input, { label, keyframeGate: true, skipDamaged: true });
    timeline.beginConnection();
  }

  static async open(opts: LiveConnectionOptions): Promise<LiveConnection> {
    const input = await openInput({ url: opts.url, label: opts.label, ...(opts.format ? { format: opts.format } : {}), ...(opts.options ? { options: opts.options } : {}) });
    return new LiveConnection(input, opts.timeline, opts.label);
  }

  /** Maps this connection's copied streams onto the negotiated ones, by kind and order (codec must match). */
  attach(targets: readonly CopyStream[]): string[] {
    const problems: string[] = [];
    const mine = [...this.input.copyStreams];
    for (const target of targets) {
      const i = mine.findIndex((s) => s.kind === target.kind);
      const match = i >= 0 ? mine.splice(i, 1)[0]! : undefined;
      if (!match) problems.push(`${target.kind} stream #${target.index} is gone after reconnecting`);
      else if (match.codec !== target.codec) problems.push(`${target.kind} stream #${target.index} is ${match.codec} now, was ${target.codec}: not copied`);
      else this.copyTargets.set(match.index, target);
    }
    return problems;
  }

  /** The next items (possibly none); null at the end of the stream. */
  async read(): Promise<LiveItem[] | null> {
    const step = await this.loop.step();
    if (!step) return null;
    if (step.other) {
      const target = this.copyTargets.get(step.other.stream_index);
      return target ? this.copy(step.other, target) : [];
    }
    return this.video(step.frames);
  }

  private video(frames: readonly Beamcoder.Frame[]): LiveItem[] {
    const arrivedAt = performance.now();
    const items: LiveItem[] = [];
    for (const frame of frames) {
      const item = this.placeVideo(frame, arrivedAt);
      if (item) items.push(item);
    }
    return items;
  }

  private placeVideo(frame: Beamcoder.Frame, arrivedAt: number): LiveVideo | undefined {
    const video = this.input.video;
    const period = framePeriodUs(video.frameRate);
    const raw = presentationTime(frame);
    let us: number | undefined;
    if (raw !== undefined) us = this.timeline.map('video', raw, video.timeBase, true);
    else if (this.lastVideoUs !== undefined) us = this.lastVideoUs + period;
    if (us === undefined) return undefined; // no clock yet: wait for a picture that has one
    if (this.lastVideoUs !== undefined && us <= this.lastVideoUs) return undefined; // a repeated timestamp
    const durationUs = frame.pkt_duration > 0 ? toMicros(frame.pkt_duration, video.timeBase) : period;
    this.lastVideoUs = us;
    this.timeline.noteEnd(us + durationUs);
    return { kind: 'video', frame, ptsUs: us, durationUs, arrivedAt, discontinuity: this.timeline.takeBreak() };
  }

  private copy(packet: Beamcoder.Packet, target: CopyStream): LiveItem[] {
    const stream = this.input.demuxer.streams[packet.stream_index]!;
    const tb = pairOf(stream.time_base);
    const key = `copy${packet.stream_index}`;
    const ts = isTimestamp(packet.pts) ? packet.pts : isTimestamp(packet.dts) ? packet.dts : undefined;
    if (ts === undefined || !this.loop.started || !this.timeline.anchored) return [];
    const us = this.timeline.map(key, ts, tb, false);
    if (us === undefined || us < this.timeline.startUs) return []; // from before the first picture
    const last = this.lastCopyUs.get(packet.stream_index);
    if (last !== undefined && us <= last) return []; // from before this connection's start: would go backwards
    this.lastCopyUs.set(packet.stream_index, us);
    const shift = us - toMicros(ts, tb);
    const durationUs = packet.duration > 0 ? toMicros(packet.duration, tb) : 0;
    this.timeline.noteEnd(us + durationUs);
    if (isTimestamp(packet.pts)) packet.pts = fromMicros(toMicros(packet.pts, tb) + shift, target.timeBase);
    if (isTimestamp(packet.dts)) packet.dts = fromMicros(toMicros(packet.dts, tb) + shift, target.timeBase);
    if (packet.duration > 0) packet.duration = fromMicros(durationUs, target.timeBase);
    return [{ kind: 'copy', packet: { streamIndex: target.index, handle: packet } }];
  }

  /** Ends the connection; never while a read() is pending (FFmpeg has no way to interrupt it here). */
  close(): void {
    try {
      this.input.demuxer.forceClose();
    } catch {
      // already closed
    }
  }
}

function pairOf(v: number[]): Rational {
  return { num: v[0] ?? 1, den: v[1] ?? 1 };
}

function framePeriodUs(rate: Rational | undefined): number {
  return rate && rate.num > 0 ? Math.round((1_000_000 * rate.den) / rate.num) : 40_000;
}
