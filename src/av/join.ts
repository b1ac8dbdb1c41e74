import { renameSync, rmSync } from 'node:fs';
import type { Beamcoder } from './beamcoder.js';
import { beamcoder } from './beamcoder.js';
import type { Rational } from '../core/rational.js';

import { SinkError, SourceError, UsageError } from '../core/errors.js';
import { copyRefusal, notCopied } from './containers.js';
import { isTimestamp } from '../core/timeline.js';
import { ffmpegReason, openInput } from './input.js';
import { copyStreamParams, pairOf, retime } from './output.js';

export interface JoinOptions {
  /** The original input: its audio and subtitle streams are copied once, from here. */
  readonly source: string;
  /** Encoded chunk files (one video stream each), in order. */
  readonly chunks: readonly string[];
  /** The final output: written under `tempPath` and renamed to this when complete. */
  readonly output: string;
  readonly tempPath: string;
  /** FFmpeg muxer name of the output. */
  readonly container: string;
  /** Time base the video stream asks the muxer for (the input's, as a single run does). */
  readonly videoTimeBase: Rational;
  /** The frames the chunks must give together: checked before the file is finished and renamed. */
  readonly expectedVideoPackets?: number;
}

export interface JoinResult {
  readonly videoPackets: number;
  readonly copiedPackets: number;
  /** Streams of the source the container does not take. */
  readonly warnings: readonly string[];
}

async function openChunk(path: string): Promise<Beamcoder.Demuxer> {
  try {
    return await beamcoder().demuxer({ url: path });
  } catch (err) {
    throw new SourceError(`chunk '${path}': ${ffmpegReason(err)}`, { cause: err });
  }
}

/**
 * Joins encoded chunks into one file without re-encoding (stream copy, as ffmpeg's concat demuxer
 * with -c copy, but every packet keeps its own pts and dts: the chunks carry the input's
 * timestamps), copies the source's audio and subtitle packets once, interleaved by time, and
 * renames the finished file into place: the output exists only when it is complete.
 */
export async function joinChunks(opts: JoinOptions): Promise<JoinResult> {
  if (!opts.chunks.length) throw new SinkError('join: no chunks to join');
  const bc = beamcoder();
  const source = await openInput({ url: opts.source, label: opts.source });
  const demuxers: Beamcoder.Demuxer[] = [];
  let muxer: Beamcoder.Muxer | undefined;
  let finished = false;
  try {
    const first = await openChunk(opts.chunks[0]!);
    demuxers.push(first);
    const firstVideo = first.streams.find((s) => s.codecpar.codec_type === 'video');
    if (!firstVideo) throw new SourceError(`chunk '${opts.chunks[0]}': no video stream`);
    try {
      muxer = bc.muxer({ format_name: opts.container });
    } catch (err) {
      throw new UsageError(`output '${opts.output}': unknown container '${opts.container}'`, { cause: err });
    }
    const outTb = opts.videoTimeBase;
    const video = muxer.newStream({ name: firstVideo.codecpar.name, time_base: [outTb.num, outTb.den], interleaved: true });
    copyStreamParams(firstVideo, video);
    (video.codecpar as unknown as { codec_tag: number }).codec_tag = 0;
    video.time_base = [outTb.num, outTb.den];
    if (firstVideo.avg_frame_rate?.[0]) video.avg_frame_rate = firstVideo.avg_frame_rate;
    if (firstVideo.sample_aspect_ratio?.[0]) video.sample_aspect_ratio = firstVideo.sample_aspect_ratio;

    const warnings: string[] = [];
    const copyMap = new Map<number, { out: Beamcoder.Stream; inTb: Rational }>();
    for (const copy of source.copyStreams) {
      const refusal = copyRefusal(opts.container, copy.kind, copy.codec);
      if (refusal) {
        warnings.push(notCopied(copy, refusal));
        continue;
      }
      const out = muxer.newStream({ name: copy.codec, time_base: [copy.timeBase.num, copy.timeBase.den], interleaved: true });
      copyStreamParams(copy.handle as Beamcoder.Stream, out);
      out.time_base = [copy.timeBase.num, copy.timeBase.den];
      (out.codecpar as unknown as { codec_tag: number }).codec_tag = 0;
      copyMap.set(copy.index, { out, inTb: copy.timeBase });
    }
    try {
      await muxer.openIO({ url: opts.tempPath, options: {} });
      await muxer.writeHeader();
    } catch (err) {
      throw new SinkError(`output '${opts.output}': cannot write ${opts.tempPath}: ${ffmpegReason(err)}`, { cause: err });
    }

    // the time base the muxer settled on in writeHeader (Matroska's is 1 ms whatever was asked):
    // packets are rescaled to it, or their times would be read in the wrong unit
    const videoTb = pairOf(video.time_base);
    // the chunks' video packets, one file after the other, each checked to follow the one before
    let chunkIndex = 0;
    let current: Beamcoder.Demuxer = first;
    let currentTb = pairOf(firstVideo.time_base);
    let lastDts: number | undefined;
    let firstOfChunk = true;
    const nextVideo = async (): Promise<Beamcoder.Packet | null> => {
      for (;;) {
        const pkt = await current.read();
        if (pkt) {
          if (current.streams[pkt.stream_index]?.codecpar.codec_type !== 'video') continue;
          retime(pkt, currentTb, videoTb);
          const dts = isTimestamp(pkt.dts) ? pkt.dts : pkt.pts;
          if (lastDts !== undefined && isTimestamp(dts) && dts <= lastDts) {
            throw new SinkError(`join: chunk ${chunkIndex} (${opts.chunks[chunkIndex]}) ${firstOfChunk ? 'starts' : 'goes'} at dts ${dts}, not after ${lastDts}: chunks overlap or are out of order`);
          }
          if (isTimestamp(dts)) lastDts = dts;
          firstOfChunk = false;
          return pkt;
        }
        if (++chunkIndex >= opts.chunks.length) return null;
        current = await openChunk(opts.chunks[chunkIndex]!);
        demuxers.push(current);
        const v = current.streams.find((s) => s.codecpar.codec_type === 'video');
        if (!v) throw new SourceError(`chunk '${opts.chunks[chunkIndex]}': no video stream`);
        if (v.codecpar.name !== firstVideo.codecpar.name || v.codecpar.width !== firstVideo.codecpar.width || v.codecpar.height !== firstVideo.codecpar.height) {
          throw new SourceError(`chunk '${opts.chunks[chunkIndex]}': ${v.codecpar.name} ${v.codecpar.width}x${v.codecpar.height} differs from the first chunk's ${firstVideo.codecpar.name} ${firstVideo.codecpar.width}x${firstVideo.codecpar.height}`);
        }
        currentTb = pairOf(v.time_base);
        firstOfChunk = true;
      }
    };
    const nextCopy = async (): Promise<Beamcoder.Packet | null> => {
      for (;;) {
        const pkt = await source.demuxer.read();
        if (!pkt) return null;
        const target = copyMap.get(pkt.stream_index);
        if (!target) continue;
        retime(pkt, target.inTb, pairOf(target.out.time_base));
        pkt.stream_index = target.out.index;
        return pkt;
      }
    };
    const seconds = (pkt: Beamcoder.Packet, tb: Rational): number => {
      const t = isTimestamp(pkt.dts) ? pkt.dts : isTimestamp(pkt.pts) ? pkt.pts : 0;
      return (t * tb.num) / tb.den;
    };
    const write = async (pkt: Beamcoder.Packet): Promise<void> => {
      try {
        await muxer!.writeFrame(pkt);
      } catch (err) {
        throw new SinkError(`output '${opts.output}': writing failed: ${ffmpegReason(err)}`, { cause: err });
      }
    };
    let videoPackets = 0;
    let copiedPackets = 0;
    let v = await nextVideo();
    let c = copyMap.size ? await nextCopy() : null;
    while (v || c) {
      const takeVideo = v && (!c || seconds(v, videoTb) <= seconds(c, pairOf(muxer.streams[c.stream_index]!.time_base)));
      if (takeVideo) {
        v!.stream_index = video.index;
        await write(v!);
        videoPackets++;
        v = await nextVideo();
      } else {
        await write(c!);
        copiedPackets++;
        c = await nextCopy();
      }
    }
    if (opts.expectedVideoPackets !== undefined && videoPackets !== opts.expectedVideoPackets) {
      throw new SinkError(`join: the chunks gave ${videoPackets} video packets for ${opts.expectedVideoPackets} frames`);
    }
    try {
      await muxer.writeTrailer();
    } catch (err) {
      throw new SinkError(`output '${opts.output}': cannot finish the file: ${ffmpegReason(err)}`, { cause: err });
    }
    finished = true;
    renameSync(opts.tempPath, opts.output);
    return { videoPackets, copiedPackets, warnings };
  } finally {
    for (const d of demuxers) {
      try {
        d.forceClose();
      } catch {
        // closed
      }
    }
    try {
      source.demuxer.forceClose();
    } catch {
      // closed
    }
    if (!finished) {
      try {
        muxer?.forceClose();
      } catch {
        // never opened
      }
      rmSync(opts.tempPath, { force: true });
    }
  }
}
