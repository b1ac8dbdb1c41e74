import type { Frame } from '../core/frame.js';
import type { ReadOptions } from './source.js';

/**
 * The one way a source hands frames on: a credit is acquired before each frame is read and travels
 * with it (the runner returns it once the sink has the frame). When reading fails, the stream ends
 * (`next` gives undefined) or the signal is aborted, the credit goes straight back.
 */
export async function* creditedFrames(read: ReadOptions, next: () => Promise<Frame | undefined>): AsyncGenerator<Frame, void, void> {
  for (;;) {
    if (read.signal.aborted) return;
    try {
      await read.credit.acquire(read.signal);
    } catch {
      return; // aborted while waiting: end the stream here
    }
    let frame: Frame | undefined;
    try {
      frame = await next();
    } catch (err) {
      read.credit.release();
      throw err;
    }
    if (!frame || read.signal.aborted) {
      read.credit.release();
      return;
    }
    yield frame;
  }
}
