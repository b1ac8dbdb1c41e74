import t from 'tap';
import { makeFrame } from './helpers/harness.js';
import { CAPTURE_INTERVAL_MS, PreviewTap, WATCH_MS } from '../src/preview/preview-tap.js';
import { bicubicResize, takePicture } from '../src/preview/picture.js';
import { rgbOf } from '../src/core/frame.js';

/** 25 frames a second through a tap on a clock the test moves; the model gives each frame back at once unless dropped. */
function run(tap: PreviewTap, clock: { now: number }, seconds: number, drop: (index: number) => boolean = () => false, from = 0): number {
  let index = from;
  for (let i = 0; i < seconds * 25; i++, index++) {
    clock.now += 40;
    const frame = makeFrame(index);
    tap.onSource(frame);
    if (!drop(index)) tap.onOutput(frame);
  }
  return index;
}

t.test('the preview tap copies nothing unwatched, one pair a second watched, and stops after the watch window', async (t) => {
  const clock = { now: 0 };
  const pairs: number[] = [];
  const tap = new PreviewTap((p) => pairs.push(p.index), () => clock.now);
  let next = run(tap, clock, 10);
  t.equal(tap.copies, 0, '10 s unwatched: no copy');
  tap.watch();
  next = run(tap, clock, WATCH_MS / 1000 - 0.2, undefined, next);
  t.ok(pairs.length >= 4 && pairs.length <= 5, `${pairs.length} pairs in ${WATCH_MS / 1000 - 0.2} s watched (one per ${CAPTURE_INTERVAL_MS} ms)`);
  t.equal(tap.copies, 2 * pairs.length, 'two copies per pair, none besides');
  const copies = tap.copies;
  run(tap, clock, 10, undefined, next);
  t.ok(tap.copies - copies <= 2, 'once the watch window has passed, no more copies');
});

t.test('a source frame the pipeline drops gives no pair, and the next second tries again', async (t) => {
  const clock = { now: 0 };
  const pairs: Array<{ index: number; before: number; after: number }> = [];
  // each frame's pixels hold its index / 100: a pair's two pictures must be of the same frame
  const tap = new PreviewTap((p) => pairs.push({ index: p.index, before: rgbOf(p.before.frame)[0]!, after: rgbOf(p.after.frame)[0]! }), () => clock.now);
  tap.watch();
  run(tap, clock, 3, (i) => i % 2 === 0);
  t.ok(pairs.length >= 1, 'pairs still come');
  t.ok(pairs.every((p) => p.index % 2 === 1), 'only frames that came out');
  t.ok(pairs.every((p) => p.before === p.after), 'before and after always of the same frame');
});

t.test('takePicture holds the frame (frames are never changed once made); bicubicResize keeps a flat picture flat and the output size', async (t) => {
  const frame = makeFrame(3, { value: 0.25 });
  const p = takePicture(frame);
  t.equal(p.frame, frame, 'the frame itself: nothing copied until it is encoded');
  t.same([p.width, p.height], [frame.info.width, frame.info.height]);
  const up = bicubicResize({ width: p.width, height: p.height, rgb: rgbOf(frame) }, p.width * 4, p.height * 3);
  t.equal(up.rgb.length, 3 * p.width * 4 * p.height * 3);
  t.ok(up.rgb.every((v) => Math.abs(v - 0.25) < 1e-6), 'flat in, flat out');
});
