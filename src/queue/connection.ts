import { Redis } from 'ioredis';
import { UsageError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';

/** The one BullMQ queue every stream-sr worker takes jobs from. */
export const QUEUE_NAME = 'stream-sr';

/** redis://HOST:PORT[/DB] or rediss://..., else a usage error. */
export function checkRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--redis ${url}: not a URL (redis://HOST:PORT)`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new UsageError(`--redis ${url}: expected redis://HOST:PORT or rediss://HOST:PORT`);
  if (!parsed.hostname) throw new UsageError(`--redis ${url}: no host`);
  return url;
}

/** Backoff between reconnection attempts: 0.25 s, 0.5 s, 1 s ... at most 10 s. */
export function reconnectDelay(attempt: number): number {
  return Math.min(10_000, 250 * 2 ** Math.min(Math.max(attempt - 1, 0), 6));
}

/**
 * A connection that never gives up: a lost connection is retried with backoff and said once per
 * outage on the log, and its return is said too. BullMQ's blocking commands need
 * maxRetriesPerRequest null (commands wait for the reconnection instead of failing).
 */
export function lastingConnection(url: string, log: Logger, who: string): Redis {
  let down = false;
  let lastError = '';
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => {
      const delay = reconnectDelay(attempt);
      log.warn(`${who}: Redis ${url} unreachable (${lastError || 'connection closed'}); retry ${attempt} in ${(delay / 1000).toFixed(2)} s`);
      return delay;
    },
  });
  redis.on('error', (err: unknown) => {
    lastError = errorMessage(err);
  });
  redis.on('close', () => {
    if (closing.has(redis)) return;
    if (!down) log.warn(`${who}: connection to Redis ${url} lost`);
    down = true;
  });
  redis.on('ready', () => {
    if (down) log.info(`${who}: reconnected to Redis ${url}`);
    down = false;
  });
  return redis;
}

const closing = new WeakSet<Redis>();

/** Closes a connection on purpose: not said as a lost connection. */
export async function endConnection(redis: Redis): Promise<void> {
  closing.add(redis);
  await redis.quit().catch(() => redis.disconnect());
}

/**
 * A short-lived client (submit, jobs): tries once and fails with one line when Redis is not there,
 * so a wrong --redis is told at once instead of retried for ever.
 */
export async function connectOnce(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 5000 });
  // the socket's own error (ECONNREFUSED, ENOTFOUND) says more than ioredis's 'Connection is closed'
  let socketError: unknown;
  redis.on('error', (err: unknown) => (socketError = err));
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new RedisUnreachable(`cannot reach Redis at ${url}: ${errorMessage(socketError ?? err)}`);
  }
  return redis;
}

export class RedisUnreachable extends Error {}
