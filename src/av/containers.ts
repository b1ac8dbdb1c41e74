/** What each output container takes besides the upscaled video (copied audio and subtitles). */

const FORMAT_ALIASES: Record<string, string> = {
  y4m: 'yuv4mpegpipe',
  mkv: 'matroska',
  ts: 'mpegts',
  mp4: 'mp4',
  mov: 'mov',
  nut: 'nut',
  matroska: 'matroska',
  mpegts: 'mpegts',
  yuv4mpegpipe: 'yuv4mpegpipe',
  flv: 'flv',
  hls: 'hls',
  webm: 'webm',
  rtsp: 'rtsp',
  segment: 'segment',
};

const EXTENSIONS: Record<string, string> = {
  mp4: 'mp4',
  m4v: 'mp4',
  mkv: 'matroska',
  mov: 'mov',
  ts: 'mpegts',
  m2ts: 'mpegts',
  y4m: 'yuv4mpegpipe',
  nut: 'nut',
  flv: 'flv',
  webm: 'webm',
  m3u8: 'hls',
};

/** FFmpeg muxer name for a `-f` value, or undefined when we don't know it. */
export function muxerName(format: string): string | undefined {
  return FORMAT_ALIASES[format.toLowerCase()];
}

export function muxerForPath(path: string): string | undefined {
  const m = /\.([A-Za-z0-9]+)$/.exec(path);
  return m ? EXTENSIONS[m[1]!.toLowerCase()] : undefined;
}

/** The muxer a network output URL implies: RTSP publish, RTMP (FLV), MPEG-TS over SRT or UDP. */
export function muxerForUrl(url: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'rtsp' || scheme === 'rtsps') return 'rtsp';
  if (scheme === 'rtmp' || scheme === 'rtmps') return 'flv';
  if (scheme === 'srt' || scheme === 'udp' || scheme === 'rtp') return 'mpegts';
  return undefined;
}

export const SUPPORTED_FORMATS = Object.keys(FORMAT_ALIASES);

const MP4_AUDIO = ['aac', 'mp3', 'ac3', 'eac3', 'alac', 'opus', 'mp2'];
const TAKES: Record<string, { audio: readonly string[] | 'any'; subtitle: readonly string[] }> = {
  mp4: { audio: MP4_AUDIO, subtitle: ['mov_text'] },
  mov: { audio: [...MP4_AUDIO, 'pcm_s16le', 'pcm_s16be', 'pcm_s24le', 'pcm_s24be', 'pcm_f32le'], subtitle: ['mov_text'] },
  matroska: { audio: 'any', subtitle: ['subrip', 'ass', 'ssa', 'webvtt', 'hdmv_pgs_subtitle', 'dvd_subtitle', 'dvb_subtitle', 'text'] },
  webm: { audio: ['opus', 'vorbis'], subtitle: ['webvtt'] },
  mpegts: { audio: ['aac', 'mp3', 'mp2', 'ac3', 'eac3', 'opus', 'dts', 'truehd'], subtitle: ['dvb_subtitle', 'dvb_teletext'] },
  nut: { audio: 'any', subtitle: ['subrip', 'ass', 'ssa', 'text', 'mov_text', 'webvtt'] },
  flv: { audio: ['aac', 'mp3'], subtitle: [] },
  hls: { audio: ['aac', 'mp3', 'ac3', 'eac3'], subtitle: [] },
  rtsp: { audio: ['aac', 'opus', 'mp3', 'mp2', 'ac3', 'pcm_mulaw', 'pcm_alaw', 'adpcm_g722'], subtitle: [] },
  yuv4mpegpipe: { audio: [], subtitle: [] },
};

/** The warning for an input stream an output does not carry, and why. */
export function notCopied(copy: { readonly index: number; readonly kind: string; readonly codec: string }, why: string): string {
  return `input stream #${copy.index} (${copy.kind}, ${copy.codec}) is not copied: ${why}`;
}

/** Why `container` can't carry a copied stream of this kind and codec, or undefined when it can. */
export function copyRefusal(container: string, kind: string, codec: string): string | undefined {
  const takes = TAKES[container];
  if (!takes) return undefined;
  if (kind === 'audio') {
    if (takes.audio === 'any' || takes.audio.includes(codec)) return undefined;
    return takes.audio.length === 0 ? `${container} carries no audio` : `${container} does not take ${codec} audio`;
  }
  if (kind === 'subtitle') {
    if (takes.subtitle.includes(codec)) return undefined;
    return takes.subtitle.length === 0 ? `${container} carries no subtitles` : `${container} does not take ${codec} subtitles`;
  }
  return `${kind} streams are not copied`;
}

/** Containers whose video must be uncompressed frames (the wrapped_avframe pseudo-encoder). */
export function rawVideoOnly(container: string): boolean {
  return container === 'yuv4mpegpipe';
}
