import { createRequire } from 'node:module';
import type * as Beamcoder from 'beamcoder';

export type { Beamcoder };

let loaded: typeof Beamcoder | undefined;

/**
 * beamcoder prints a licence banner with console.log when first required. On `-o -` stdout carries
 * the video stream, so the banner is sent to stderr instead: the stream must start with its own
 * first byte.
 */
export function beamcoder(): typeof Beamcoder {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const log = console.log;
  console.log = (...args: unknown[]) => {
    if (process.env.STREAM_SR_BANNER === '1') console.error(...args);
  };
  try {
    loaded = require('beamcoder') as typeof Beamcoder;
  } finally {
    console.log = log;
  }
  loaded.logging(process.env.STREAM_SR_FFMPEG_LOG ?? 'error');
  return loaded;
}
