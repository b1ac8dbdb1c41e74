import type { Beamcoder } from './beamcoder.js';
import { SourceError } from '../core/errors.js';
import { ffmpegReason, VideoDecoder, type OpenedInput } from './input.js';

export interface DecodeLoopOptions {
  /** The input as the user named it, for messages. */
  readonly label: string;
  /** Live streams: video packets before the first keyframe are dropped (they cannot be decoded). */
  readonly keyframeGate?: boolean;
  /** Live streams: a packet the decoder rejects (lost datagrams) is skipped and counted, as ffplay does. */
  readonly skipDamaged?: boolean;
  /** Told once when the input ends on a damaged packet (a file cut short). */
  readonly onWarning?: (message: string) => void;
  /** Times the demuxer and the decoder (RunStats.time). */
  readonly time?: <T>(stage: 'demux' | 'decode', work: () => Promise<T>) => Promise<T>;
}

/** What one packet read gives: the pictures it completed, or a packet of another stream. */
export type DecodeStep = { readonly frames: readonly Beamcoder.Frame[]; readonly other?: undefined } | { readonly frames: readonly []; readonly other: Beamcoder.Packet };

const untimed = <T>(_stage: string, work: () => Promise<T>): Promise<T> => work();

/**
 * The one demux → decode → flush loop: files, pipes, live inputs, the eval reader and single
 * pictures all read through it. `step` reads one packet; at the end of the input it flushes the
 * decoder once (the last pictures are never lost) and then says null. `next` is the picture-at-a-time
 * form, handing packets of other streams to `onOther`.
 */
export class DecodeLoop {
  private readonly decoder: VideoDecoder;
  private readonly pending: Beamcoder.Frame[] = [];
  private sawKeyframe: boolean;
  private ended = false;
  private lastDamaged = false;

  constructor(
    readonly input: OpenedInput,
    private readonly opts: DecodeLoopOptions,
  ) {
    this.decoder = new VideoDecoder(input);
    this.sawKeyframe = !opts.keyframeGate;
  }

  async step(): Promise<DecodeStep | null> {
    if (this.ended) return null;
    const time = this.opts.time ?? untimed;
    const packet = await time('demux', () => this.read());
    if (!packet) {
      this.ended = true;
      if (this.lastDamaged) this.opts.onWarning?.(`input '${this.opts.label}': it ends on a damaged packet (a file cut short?); every picture that decodes before it is kept`);
      return { frames: await time('decode', () => this.decoder.flush()) };
    }
    this.lastDamaged = packet.flags.CORRUPT;
    if (packet.stream_index !== this.input.videoStream.index) return { frames: [], other: packet };
    if (!this.sawKeyframe) {
      if (!packet.flags.KEY) return { frames: [] };
      this.sawKeyframe = true;
    }
    try {
      return { frames: await time('decode', () => this.decoder.decode(packet)) };
    } catch (err) {
      if (!this.opts.skipDamaged) throw err;
      return { frames: [] };
    }
  }

  /** The next picture, or null at the end; packets of other streams go to `onOther` as they are read. */
  async next(onOther?: (packet: Beamcoder.Packet) => void): Promise<Beamcoder.Frame | null> {
    while (this.pending.length === 0) {
      const s = await this.step();
      if (!s) return null;
      if (s.other) onOther?.(s.other);
      else this.pending.push(...s.frames);
    }
    return this.pending.shift()!;
  }

  /** True once the video stream's first keyframe went in (always, without the gate). */
  get started(): boolean {
    return this.sawKeyframe;
  }

  private async read(): Promise<Beamcoder.Packet | null> {
    try {
      return await this.input.demuxer.read();
    } catch (err) {
      throw new SourceError(`input '${this.opts.label}': reading failed: ${ffmpegReason(err)}`, { cause: err });
    }
  }
}
