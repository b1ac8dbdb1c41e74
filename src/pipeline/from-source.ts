import { Observable } from 'rxjs';
import type { Frame } from '../core/frame.js';
import { inStage } from '../core/errors.js';
import type { ReadOptions, Source } from '../sources/source.js';

/**
 * The boundary between a pull-based source and the RxJS stream. The source yields only against
 * credits, so this never buffers more than the credit bound; unsubscribing stops the generator.
 * A source that fails ends the stream only after the frames it gave before have been written.
 */
export function fromSource(source: Source, read: ReadOptions): Observable<Frame> {
  return new Observable<Frame>((subscriber) => {
    const frames = source.frames(read);
    let stopped = false;
    void (async () => {
      try {
        for (;;) {
          const next = await frames.next();
          if (stopped) return;
          if (next.done) break;
          subscriber.next(next.value);
        }
        subscriber.complete();
      } catch (err) {
        if (stopped) return;
        // the frames read before the failure are still on their way to the sink: an error now would
        // throw them away with it (RxJS ends every stage at once), so they are written first, then
        // the run fails with the output holding every good frame (as ffmpeg's would)
        await read.credit.idle();
        if (!stopped) subscriber.error(inStage('source', err));
      }
    })();
    return () => {
      stopped = true;
      void frames.return(undefined).catch(() => undefined);
    };
  });
}
