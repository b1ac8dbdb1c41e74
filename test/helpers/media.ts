import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(ROOT, 'samples', 'test');
export const SHARED_DATA = process.env.STREAM_SR_SHARED_DATA ?? join(ROOT, '..', 'shared', 'data');

export function ffmpeg(args: string[]): void {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${r.stderr}`);
}

/** A test clip made once with ffmpeg and cached under samples/test (written atomically). */
export function fixture(name: string, args: (out: string) => string[]): string {
  mkdirSync(FIXTURES, { recursive: true });
  const path = join(FIXTURES, name);
  if (existsSync(path)) return path;
  const tmp = join(FIXTURES, `.tmp-${process.pid}-${name}`);
  ffmpeg(args(tmp));
  renameSync(tmp, path);
  return path;
}

const TESTSRC = (size: string, rate: number, seconds: number) => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}:duration=${seconds}`];
/** Burns the frame number in, large and white, so that every frame differs. */
export const NUMBER = 'drawtext=text=%{n}:x=2:y=2:fontsize=20:fontcolor=white:box=1:boxcolor=black';
const SINE = (seconds: number) => ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`];

export const clips = {
  /** 64x48 yuv420p H.264 with AAC audio, 25 fps, 1 s. */
  withAac: () => fixture('aac-64x48.mp4', (o) => [...TESTSRC('64x48', 25, 1), ...SINE(1), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', '-f', 'mp4', o]),
  /** Variable frame rate: frames at irregular times, in Matroska (1 ms time base). */
  vfr: () => fixture('vfr-64x48.mkv', (o) => [...TESTSRC('64x48', 25, 2), '-vf', "select='not(mod(n\\,3))+not(mod(n\\,5))'", '-fps_mode', 'vfr', '-c:v', 'ffv1', '-f', 'matroska', o]),
  tenBit: () => fixture('10bit-64x48.mkv', (o) => [...TESTSRC('64x48', 25, 0.4), '-c:v', 'libx264', '-pix_fmt', 'yuv420p10le', '-f', 'matroska', o]),
  bt709: () => fixture('bt709-64x48.mkv', (o) => [...TESTSRC('64x48', 25, 0.4), '-vf', 'scale=out_color_matrix=bt709:out_range=tv', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv', '-f', 'matroska', o]),
  /** One clip per accepted input pixel format, losslessly coded where a lossless codec takes it. */
  pixfmt: (fmt: string) =>
    fixture(`pixfmt-${fmt}.nut`, (o) => [...TESTSRC('64x48', 25, 0.2), '-pix_fmt', fmt, '-c:v', fmt === 'nv12' || fmt === 'rgb24' ? 'rawvideo' : 'ffv1', '-f', 'nut', o]),
  /** 320x180 H.264, 300 frames: long enough to interrupt. */
  long: () => fixture('long-320x180.mkv', (o) => [...TESTSRC('320x180', 25, 12), ...SINE(12), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', '-f', 'matroska', o]),
  withSubtitles: () => fixture('subs-64x48.mkv', (o) => [...TESTSRC('64x48', 25, 1), '-i', subtitleFile(), '-c:v', 'ffv1', '-c:s', 'subrip', '-f', 'matroska', o]),
  audioOnly: () => fixture('audio-only.m4a', (o) => [...SINE(1), '-c:a', 'aac', '-f', 'mp4', o]),
  /**
   * 64x48 frames that all differ: small testsrc2 sizes repeat frames, so the frame number is burnt
   * in (order and history bugs would otherwise pass unseen).
   */
  numbered: () => fixture('numbered-64x48.mkv', (o) => [...TESTSRC('64x48', 25, 0.4), '-vf', NUMBER, '-c:v', 'ffv1', '-f', 'matroska', o]),
  small: () => fixture('small-64x48.mkv', (o) => [...TESTSRC('64x48', 25, 0.4), '-c:v', 'ffv1', '-f', 'matroska', o]),
};

function subtitleFile(): string {
  mkdirSync(FIXTURES, { recursive: true });
  const path = join(FIXTURES, 'subs.srt');
  if (!existsSync(path)) writeFileSync(path, '1\n00:00:00,100 --> 00:00:00,600\nhello\n\n2\n00:00:00,700 --> 00:00:00,900\nworld\n');
  return path;
}

export interface ProbedFrame {
  readonly pts: number;
  readonly ptsTime: number;
  readonly width: number;
  readonly height: number;
  readonly pixFmt: string;
}

export function probeJson(path: string, args: string[]): Record<string, unknown> {
  const out = execFileSync('ffprobe', ['-v', 'error', '-of', 'json', ...args, path], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return JSON.parse(out) as Record<string, unknown>;
}

export function probeVideoFrames(path: string): ProbedFrame[] {
  const j = probeJson(path, ['-select_streams', 'v:0', '-show_entries', 'frame=pts,pts_time,best_effort_timestamp,best_effort_timestamp_time,width,height,pix_fmt', '-show_frames']);
  return ((j.frames as Array<Record<string, string | number>>) ?? []).map((f) => ({
    pts: Number(f.pts ?? f.best_effort_timestamp),
    ptsTime: Number(f.pts_time ?? f.best_effort_timestamp_time),
    width: Number(f.width),
    height: Number(f.height),
    pixFmt: String(f.pix_fmt),
  }));
}

export function probeStreams(path: string): Array<Record<string, string | number>> {
  const j = probeJson(path, ['-show_streams']);
  return j.streams as Array<Record<string, string | number>>;
}

/** MD5 of every packet of the given stream type, as ffmpeg's framemd5 muxer writes them. */
export function packetMd5s(path: string, selector: string): string[] {
  const out = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-map', `0:${selector}`, '-c', 'copy', '-f', 'framemd5', '-'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return out
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').map((s) => s.trim())[5]!); // the packet's own md5; side data follows it
}

/** Every video frame decoded to packed RGB24. */
export function decodeRgb(path: string, inputArgs: string[] = []): { frames: Buffer[]; width: number; height: number } {
  const s = probeStreams(path).find((x) => x.codec_type === 'video')!;
  const width = Number(s.width);
  const height = Number(s.height);
  const raw = execFileSync('ffmpeg', ['-v', 'error', ...inputArgs, '-i', path, '-map', '0:v:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 30 });
  const size = width * height * 3;
  const frames: Buffer[] = [];
  for (let o = 0; o + size <= raw.length; o += size) frames.push(raw.subarray(o, o + size));
  return { frames, width, height };
}

/** PSNR on BT.601 luma (Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255), as VSR papers report. */
export function psnrY(a: Buffer, b: Buffer): number {
  let se = 0;
  const n = a.length / 3;
  for (let i = 0; i < a.length; i += 3) {
    const ya = (65.481 * a[i]! + 128.553 * a[i + 1]! + 24.966 * a[i + 2]!) / 255;
    const yb = (65.481 * b[i]! + 128.553 * b[i + 1]! + 24.966 * b[i + 2]!) / 255;
    se += (ya - yb) ** 2;
  }
  const mse = se / n;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

export function sharedData(...parts: string[]): string | undefined {
  const p = join(SHARED_DATA, ...parts);
  return existsSync(p) ? p : undefined;
}
