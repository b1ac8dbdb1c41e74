import t from 'tap';
import { rgbOf } from '../src/core/frame.js';
import { superResolve } from '../src/operators/super-resolve.js';
import { checkTimestamps, type TimestampIssue } from '../src/operators/check-timestamps.js';
import { scaledInfo } from '../src/core/frame.js';
import { PipelineError } from '../src/core/errors.js';
import { Harness, INFO, RecordingModel, makeFrame } from './helpers/harness.js';

t.test('the first frame has no history; later frames see the previous input and output', async (t) => {
  const model = new RecordingModel(2, true);
  const h = new Harness(superResolve(model, scaledInfo(INFO, 2)));
  for (let i = 0; i < 3; i++) h.push(makeFrame(i));
  h.end();
  await h.pull(3);
  t.same(model.windows, [
    { current: 0, previousInput: null, previousOutput: null },
    { current: 1, previousInput: 0, previousOutput: 0 },
    { current: 2, previousInput: 1, previousOutput: 1 },
  ]);
  t.ok(h.completed);
});

t.test('outputs copy pts, duration and index and carry the scaled geometry', async (t) => {
  const model = new RecordingModel(2, false);
  const h = new Harness(superResolve(model, scaledInfo(INFO, 2)));
  const inputs = [makeFrame(0, { pts: 1000, duration: 40 }), makeFrame(1, { pts: 1040, duration: 33 }), makeFrame(2, { pts: 1999, duration: 0 })];
  for (const f of inputs) h.push(f);
  h.end();
  const out = await h.pull(3);
  t.same(out.map((f) => [f.pts, f.duration, f.index]), inputs.map((f) => [f.pts, f.duration, f.index]));
  for (const f of out) {
    t.equal(f.info.width, 8);
    t.equal(f.info.height, 6);
    t.equal(rgbOf(f).length, 3 * 8 * 6);
    t.same(f.info.timeBase, INFO.timeBase, 'time base unchanged: only the sink converts');
  }
});

t.test('a discontinuity or a size change drops the history', async (t) => {
  const model = new RecordingModel(2, true);
  const h = new Harness(superResolve(model, scaledInfo(INFO, 2)));
  h.push(makeFrame(0));
  h.push(makeFrame(1));
  h.push(makeFrame(2, { discontinuity: true }));
  h.push(makeFrame(3));
  h.push(makeFrame(4, { info: { ...INFO, width: 6 } }));
  h.end();
  const out = await h.pull(5);
  t.same(model.windows.map((w) => w.previousInput), [null, 0, null, 2, null]);
  t.equal(out[4]?.info.width, 12, 'the new size is scaled too');
});

t.test('a model error ends the stream with an error naming the stage', async (t) => {
  const model = new RecordingModel(2, true, { failAt: 1 });
  const h = new Harness(superResolve(model, scaledInfo(INFO, 2)));
  h.push(makeFrame(0));
  h.push(makeFrame(1));
  h.push(makeFrame(2));
  await h.pull(3);
  t.equal(h.output.length, 1);
  t.type(h.error, PipelineError);
  t.equal((h.error as PipelineError).stage, 'model');
  t.match((h.error as Error).message, /model broke on frame 1/);
});

t.test('checkTimestamps reports non-monotonic pts, gaps and overlaps', async (t) => {
  const issues: TimestampIssue[] = [];
  const h = new Harness(checkTimestamps((i) => issues.push(i)));
  h.push(makeFrame(0, { pts: 0, duration: 10 }));
  h.push(makeFrame(1, { pts: 10, duration: 10 }));
  h.push(makeFrame(2, { pts: 25, duration: 10 }));
  h.push(makeFrame(3, { pts: 30, duration: 10 }));
  h.push(makeFrame(4, { pts: 30, duration: 10 }));
  h.end();
  await h.pull(5);
  t.same(issues.map((i) => [i.index, i.problem]), [[2, 'gap'], [3, 'overlap'], [4, 'non-monotonic']]);
});
