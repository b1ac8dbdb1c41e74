import { UsageError } from '../core/errors.js';
import type { Rational } from '../core/rational.js';

/** '25', '29.97', '30000/1001' → a rational frame rate. */
export function parseRate(text: string, option: string): Rational {
  const m = /^(\d+)(?:\/(\d+))?$/.exec(text);
  if (m) {
    const num = Number(m[1]);
    const den = m[2] ? Number(m[2]) : 1;
    if (num > 0 && den > 0) return { num, den };
  }
  const f = Number(text);
  if (Number.isFinite(f) && f > 0) return { num: Math.round(f * 1000), den: 1000 };
  throw new UsageError(`${option} ${text}: not a frame rate (e.g. 25, 29.97 or 30000/1001)`);
}

/** `delayMs=5,errorAfter=10` → identity-stage options (hidden test option). */
export function parseInject(text: string): { delayMs?: number; errorAfter?: number; eosAfter?: number; modelDelayMs?: number; chunk?: number } {
  const out: Record<string, number> = {};
  for (const part of text.split(',')) {
    const [key, value] = part.split('=');
    if (!key || !['delayMs', 'errorAfter', 'eosAfter', 'modelDelayMs', 'chunk'].includes(key) || !/^\d+$/.test(value ?? '')) {
      throw new UsageError(`--inject ${text}: expected delayMs=N, errorAfter=N, eosAfter=N, modelDelayMs=N or (submit) chunk=N`);
    }
    out[key] = Number(value);
  }
  return out;
}
