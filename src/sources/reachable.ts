import { connect } from 'node:net';
import { UsageError } from '../core/errors.js';

const DEFAULT_PORTS: Record<string, number> = { rtsp: 554, rtsps: 322, rtmp: 1935, rtmps: 443, http: 80, https: 443 };

/**
 * For inputs that start with a TCP connection (RTSP, RTMP, HTTP), checks that the server accepts
 * one before FFmpeg is asked to open the input. beamcoder 0.7.1 now and then crashes the process
 * (SIGSEGV in demuxerComplete) when an open fails, so a source that is down is found here, in
 * Node, and retried without touching FFmpeg. Resolves for other schemes.
 */
export function checkReachable(url: string, timeoutMs: number): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.resolve();
  }
  const scheme = parsed.protocol.replace(/:$/, '').toLowerCase();
  const defaultPort = DEFAULT_PORTS[scheme];
  if (defaultPort === undefined) return Promise.resolve(); // not carried over TCP (srt, udp, rtp)
  const port = parsed.port ? Number(parsed.port) : defaultPort;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const fail = (why: string): void => {
      socket.destroy();
      reject(new UsageError(`input '${url}': ${why}`));
    };
    socket.setTimeout(timeoutMs, () => fail(`no answer from ${host}:${port} within ${timeoutMs} ms`));
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => fail(err.code === 'ECONNREFUSED' ? `connection refused by ${host}:${port}` : err.message));
  });
}
