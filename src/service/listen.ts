import { isIP } from 'node:net';
import { UsageError } from '../core/errors.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** '127.0.0.1:8080', '[::1]:8080', 'localhost:8080', '0.0.0.0:8080' or a bare port. */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))?:?(\d+)$/.exec(text.trim());
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--listen ${text}: expected HOST:PORT, e.g. 127.0.0.1:8080`);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

/** Addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}

/** Refuses to serve the API beyond this machine without a bearer token. */
export function checkExposure(addr: ListenAddress, token: string | undefined): void {
  if (!isLoopback(addr.host) && !token) {
    throw new UsageError(`--listen ${addr.host}:${addr.port} is reachable from other machines: give a bearer token with --token or the STREAM_SR_TOKEN environment variable`);
  }
}
