import type { BackoffSettings } from '../core/backoff.js';
import { DEFAULTS } from '../core/defaults.js';

export type LivePolicy = 'drop' | 'fallback' | 'queue';
export const LIVE_POLICIES: readonly LivePolicy[] = ['drop', 'fallback', 'queue'];
export type RtspTransport = 'tcp' | 'udp';

export interface ReconnectSettings extends BackoffSettings {
  readonly enabled: boolean;
}

/** How a live input is read: transport, loss detection, reconnecting, and what to do when the model is behind. */
export interface LiveSettings {
  readonly policy: LivePolicy;
  readonly maxQueue: number;
  readonly rtspTransport: RtspTransport;
  readonly readTimeoutMs: number;
  readonly reconnect: ReconnectSettings;
  /** Where the output's timeline starts (µs): a supervised restart continues where the last run ended. */
  readonly timelineStartUs?: number;
}

export function defaultLiveSettings(): LiveSettings {
  return {
    policy: DEFAULTS.livePolicy,
    maxQueue: DEFAULTS.maxQueue,
    rtspTransport: DEFAULTS.rtspTransport,
    readTimeoutMs: DEFAULTS.liveReadTimeoutMs,
    reconnect: {
      enabled: DEFAULTS.reconnect,
      initialDelayMs: DEFAULTS.reconnectInitialDelayMs,
      maxDelayMs: DEFAULTS.reconnectMaxDelayMs,
      maxAttempts: DEFAULTS.reconnectMaxAttempts,
    },
  };
}

function schemeOf(url: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
}

/** Inputs that never pause and may drop out: RTSP, RTMP, SRT, UDP/RTP, and HLS playlists over HTTP. */
export function isLiveUrl(url: string): boolean {
  const scheme = schemeOf(url);
  if (!scheme) return false;
  if (['rtsp', 'rtsps', 'rtmp', 'rtmps', 'srt', 'udp', 'rtp'].includes(scheme)) return true;
  return (scheme === 'http' || scheme === 'https') && /\.m3u8?$/i.test(url.split(/[?#]/)[0]!);
}

/**
 * Inputs that stream-sr listens on for a sender to come (udp://, rtp://): until one sends, the open
 * finds nothing within the read timeout, which is waiting, not a fault.
 */
export function listensForSender(url: string): boolean {
  const scheme = schemeOf(url);
  return scheme === 'udp' || scheme === 'rtp';
}

/**
 * FFmpeg options for a live input: the RTSP transport, and a read timeout in the form each protocol
 * takes (microseconds), so that a silent source is noticed and a stop never waits for ever.
 * The user's own options win.
 */
export function liveInputOptions(url: string, live: LiveSettings, user: Readonly<Record<string, string>> = {}): Record<string, string> {
  const us = String(live.readTimeoutMs * 1000);
  const scheme = schemeOf(url) ?? '';
  const opts: Record<string, string> = {};
  if (scheme.startsWith('rtsp')) Object.assign(opts, { rtsp_transport: live.rtspTransport, timeout: us });
  else if (scheme === 'udp' || scheme === 'rtp') Object.assign(opts, { timeout: us, overrun_nonfatal: '1' });
  else if (scheme === 'srt') Object.assign(opts, { timeout: us });
  else Object.assign(opts, { rw_timeout: us });
  return { ...opts, ...user };
}
