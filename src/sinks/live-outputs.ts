import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { UnwritableOutputError, UsageError, errorMessage } from '../core/errors.js';
import { DEFAULTS } from '../core/defaults.js';
import type { Rational } from '../core/rational.js';
import { muxerForPath, muxerForUrl } from '../av/containers.js';
import type { EncoderSettings } from '../av/output.js';
import { isPictureOutput } from './picture-names.js';

/**
 * How an output is written: one file or pipe, an HLS folder, numbered/dated segments, a network
 * publish, PNG pictures, or nowhere (`-f null`, FFmpeg's way to time a run without writing it).
 */
export type OutputKind = 'file' | 'hls' | 'segments' | 'rtsp' | 'rtmp' | 'srt' | 'udp' | 'pictures' | 'null';

export interface OutputRequest {
  readonly output: string;
  readonly format?: string;
  /** --segment-time: cut the recording into files of about this many seconds. */
  readonly segmentSeconds?: number;
  readonly hlsSegmentSeconds?: number;
  readonly hlsListSize?: number;
  /**
   * Continue an existing HLS playlist (pipelines, whose restarts must not start the sequence over)
   * instead of replacing it (the CLI, as ffmpeg does).
   */
  readonly hlsAppend?: boolean;
  /**
   * Make a file output's folder when it is missing (pipelines: service jobs, as HLS folders and
   * recordings always do) instead of refusing it (the CLI, as ffmpeg does).
   */
  readonly createFolder?: boolean;
  /** RTSP publish transport. */
  readonly rtspTransport?: 'tcp' | 'udp';
}

export interface OutputPlan {
  readonly kind: OutputKind;
  /** The URL or path handed to FFmpeg. */
  readonly url: string;
  /** -f value for AvSink (undefined: from the file name). */
  readonly format?: string;
  readonly innerContainer?: string;
  readonly muxerOptions: Record<string, string | number>;
  /**
   * Wait this long after the last packet before closing (SRT: the receiver delivers each packet
   * only after its latency window, and a peer that closes discards what is still waiting).
   */
  readonly closeAfterMs?: number;
  /** Network and HLS outputs are watched as they are written: encode for low latency. */
  readonly lowLatency: boolean;
}

/** strftime fields that can't be printf's (%d is both: alone it numbers the files). */
const STRFTIME = /%[YmHMS]/;

export function outputKind(req: OutputRequest): OutputKind {
  if (req.format === 'null') return 'null';
  if (req.segmentSeconds !== undefined) return 'segments';
  const byUrl = muxerForUrl(req.output);
  if (byUrl === 'rtsp') return 'rtsp';
  if (byUrl === 'flv') return 'rtmp';
  if (byUrl === 'mpegts') return /^srt:/i.test(req.output) ? 'srt' : 'udp';
  if (req.format === 'hls' || /\.m3u8$/i.test(req.output)) return 'hls';
  if (isPictureOutput(req.output, req.format)) return 'pictures';
  return 'file';
}

/** Works out the muxer, its options and the URL for an output, creating the folders it writes into. */
export function planOutput(req: OutputRequest): OutputPlan {
  const kind = outputKind(req);
  switch (kind) {
    case 'rtsp':
      return { kind, url: req.output, format: 'rtsp', muxerOptions: { rtsp_transport: req.rtspTransport ?? DEFAULTS.rtspTransport }, lowLatency: true };
    case 'rtmp':
      return { kind, url: req.output, format: 'flv', muxerOptions: {}, lowLatency: true };
    case 'srt':
      // flush_packets: every packet leaves at once, so nothing is left in a buffer at the end
      return { kind, url: req.output, format: 'mpegts', muxerOptions: { flush_packets: 1 }, lowLatency: true, closeAfterMs: srtCloseDelayMs(req.output) };
    case 'udp':
      return { kind, url: /[?&]pkt_size=/.test(req.output) ? req.output : `${req.output}${req.output.includes('?') ? '&' : '?'}pkt_size=1316`, format: 'mpegts', muxerOptions: {}, lowLatency: true };
    case 'hls':
      return planHls(req);
    case 'segments':
      return planSegments(req);
    case 'null':
    case 'pictures':
      return { kind, url: req.output, muxerOptions: {}, lowLatency: false };
    default:
      if (req.createFolder && req.output !== '-' && !/^[a-z][a-z0-9+.-]*:/i.test(req.output)) makeFolder(dirname(req.output), req.output);
      return { kind, url: req.output, ...(req.format ? { format: req.format } : {}), muxerOptions: {}, lowLatency: false };
  }
}

/**
 * How long an SRT output stays open after its last packet: twice the latency the URL sets
 * (`latency=` in microseconds, as FFmpeg takes it), at least 1 s, which covers SRT's default 120 ms
 * and a receiver that asks for more.
 */
function srtCloseDelayMs(url: string): number {
  const latencyUs = Number(/[?&]latency=(\d+)/.exec(url)?.[1] ?? 0);
  return Math.max(1000, (2 * latencyUs) / 1000);
}

/** Makes the folder an output writes into (and the folders above it); a failure names the output. */
function makeFolder(dir: string, output: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new UnwritableOutputError(`output '${output}': cannot create its folder '${dir}': ${errorMessage(err)}`, { cause: err });
  }
}

/** A playlist and its segments in one folder, the playlist keeping only the last few (a rolling window). */
function planHls(req: OutputRequest): OutputPlan {
  const dir = dirname(req.output);
  makeFolder(dir, req.output);
  const stem = basename(req.output, extname(req.output));
  return {
    kind: 'hls',
    url: req.output,
    format: 'hls',
    innerContainer: 'hls',
    muxerOptions: {
      hls_time: req.hlsSegmentSeconds ?? DEFAULTS.hlsSegmentSeconds,
      hls_list_size: req.hlsListSize ?? DEFAULTS.hlsListSize,
      // append_list: a restarted pipeline (or service) continues the playlist: MEDIA-SEQUENCE and
      // segment numbers go on, no segment name is reused, and #EXT-X-DISCONTINUITY marks the seam
      hls_flags: `delete_segments+independent_segments${req.hlsAppend ? '+append_list' : ''}`,
      hls_segment_filename: join(dir, `${stem}-%05d.ts`),
    },
    lowLatency: true,
  };
}

/**
 * Segmented recording: `rec/cam-%05d.mp4` numbers the files (starting after the last one already
 * there, so a restart never overwrites a recording), `rec/cam-%Y%m%d-%H%M%S.mp4` names them by
 * wall-clock time. Each file starts at timestamp 0 and is playable on its own.
 */
function planSegments(req: OutputRequest): OutputPlan {
  const pattern = req.output;
  const seconds = req.segmentSeconds!;
  if (!(seconds > 0)) throw new UsageError(`--segment-time ${seconds}: must be a positive number of seconds`);
  const strftime = STRFTIME.test(pattern);
  if (!strftime && !/%0?\d*d/.test(pattern)) throw new UsageError(`output '${pattern}': --segment-time needs a file name pattern such as rec-%05d.mp4 or rec-%Y%m%d-%H%M%S.mp4`);
  const inner = req.format ?? muxerForPath(pattern.replace(/%/g, ''));
  if (!inner || inner === 'hls' || inner === 'yuv4mpegpipe') throw new UsageError(`output '${pattern}': cannot tell the segment container from the file name (use .mp4, .mkv, .ts or -f)`);
  makeFolder(dirname(pattern), pattern);
  const muxerOptions: Record<string, string | number> = { segment_time: seconds, segment_format: inner, reset_timestamps: 1 };
  if (strftime) muxerOptions.strftime = 1;
  else muxerOptions.segment_start_number = firstFreeNumber(pattern);
  if (inner === 'mp4' || inner === 'mov') muxerOptions.segment_format_options = 'movflags=+faststart';
  return { kind: 'segments', url: pattern, format: 'segment', innerContainer: inner, muxerOptions, lowLatency: false };
}

function firstFreeNumber(pattern: string): number {
  const fill = (n: number): string => pattern.replace(/%(0?)(\d*)d/, (_m, zero: string, width: string) => String(n).padStart(Number(width || 0), zero ? '0' : ' '));
  let n = 0;
  while (existsSync(fill(n))) n++;
  return n;
}

/**
 * Low-latency encoding for outputs people watch live: x264/x265 `zerolatency` (no frame
 * look-ahead, no B-frames) and a keyframe every second, so a player joins within a second and
 * HLS segments can be cut on time. Recorded segments get the short GOP only. The user's own
 * settings win.
 */
export function liveEncoder(user: EncoderSettings, plan: OutputPlan, frameRate: Rational | undefined): EncoderSettings {
  if (!plan.lowLatency && plan.kind !== 'segments') return user;
  const fps = frameRate && frameRate.den > 0 ? frameRate.num / frameRate.den : 25;
  const gop = Math.max(1, Math.round(fps * DEFAULTS.liveGopSeconds));
  const codec = user.codec ?? 'libx264';
  const x26x = codec.startsWith('libx264') || codec.startsWith('libx265');
  const tune: Record<string, string> = plan.lowLatency && x26x ? { tune: DEFAULTS.liveTune } : {};
  return {
    ...user,
    options: { ...tune, ...user.options },
    gopSize: user.gopSize ?? gop,
    keyframeSeconds: user.keyframeSeconds ?? DEFAULTS.liveGopSeconds,
    ...(plan.lowLatency ? { maxBFrames: user.maxBFrames ?? 0 } : {}),
  };
}
