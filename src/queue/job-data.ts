import type { Rational } from '../core/rational.js';
import type { EncoderSettings } from '../av/output.js';
import type { IdentityOptions } from '../operators/identity.js';
import type { ModelSpec } from '../pipeline/spec.js';
import type { ChunkPlan } from './plan.js';

/** Names of the two kinds of job on the queue. */
export const CHUNK = 'chunk';
export const JOIN = 'join';

/** One chunk of a submitted file: upscaled into its own file under the job's chunk folder. */
export interface ChunkJobData {
  readonly job: string;
  readonly input: string;
  readonly count: number;
  readonly plan: ChunkPlan;
  readonly timeBase: Rational;
  /** Final name of the chunk's file (written under a temporary name, then renamed). */
  readonly file: string;
  readonly model: ModelSpec;
  readonly encoder: EncoderSettings;
  readonly pixelFormat?: string;
  readonly maxInFlight: number;
  /** Fault injection (tests). */
  readonly inject?: IdentityOptions & { readonly modelDelayMs?: number };
}

/** The parent: joins the chunks, copies audio and subtitles, renames the output into place. */
export interface JoinJobData {
  readonly job: string;
  readonly input: string;
  readonly output: string;
  readonly container: string;
  readonly timeBase: Rational;
  readonly chunkDir: string;
  readonly chunks: ReadonlyArray<{ readonly file: string; readonly frames: number; readonly writeFrom: number }>;
  readonly frames: number;
}

export interface ChunkResult {
  readonly index: number;
  readonly file: string;
  readonly frames: number;
  readonly worker: string;
  /** true: the file was already there, complete, from an earlier run. */
  readonly reused: boolean;
}

export interface JoinResult {
  readonly output: string;
  readonly frames: number;
  readonly chunks: number;
  readonly worker: string;
}

export const chunkJobId = (job: string, index: number): string => `${job}-c${index}`;
/**
 * A chunk's file: MP4 for the encoders MP4 takes (libx264 by default), MOV for the others (ffv1,
 * huffyuv, utvideo, rawvideo, prores, dnxhd...). Both keep the encoder's pts and dts (NUT and
 * Matroska store no dts) in the input's time base. VP8, which neither takes, goes to Matroska: it
 * never reorders frames, so its dts are its pts. Its extension names its container.
 */
export const chunkFileName = (index: number, codec = 'libx264'): string => `chunk-${String(index).padStart(5, '0')}.${MP4_VIDEO.test(codec) ? 'mp4' : NO_REORDER_VIDEO.test(codec) ? 'mkv' : 'mov'}`;
const NO_REORDER_VIDEO = /^(libvpx|vp8_\w+)$/;
const MP4_VIDEO = /^(libx264|libx264rgb|libx265|libopenh264|h264_\w+|hevc_\w+|libaom-av1|libsvtav1|librav1e|av1_\w+|libvpx-vp9|mpeg4|libxvid|mpeg2video|mjpeg)$/;

/** A live pipeline held by one worker under the job's lock; another takes it over when the lock expires. */
export const LIVE = 'live';

export interface LiveJobData {
  readonly spec: import('../pipeline/spec.js').PipelineSpec;
  /** The pipeline file it came from, for messages. */
  readonly file: string;
}

/** What the worker holding a live pipeline reports every second (the job's progress). */
export interface LiveProgress {
  readonly worker: string;
  readonly state: string;
  /** Where the outputs' timeline has reached (µs): a takeover continues after it. */
  readonly outputEndUs: number;
  /** When this worker took it (ms since the epoch). */
  readonly since: number;
  readonly takeovers: number;
  readonly pid?: number;
  readonly framesOut: number;
}

export const liveJobId = (pipeline: string): string => `live-${pipeline}`;
