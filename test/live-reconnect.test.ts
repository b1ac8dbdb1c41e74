import t from 'tap';
import { RunStats } from '../src/core/stats.js';
import { memoryLogger } from '../src/core/log.js';
import { Credit } from '../src/core/credit.js';
import { runPipeline } from '../src/pipeline/run.js';
import { NullSink } from '../src/sinks/null-sink.js';
import { LiveSource } from '../src/sources/live-source.js';
import { defaultLiveSettings } from '../src/sources/live-options.js';
import { RecordingModel } from './helpers/harness.js';
import { startRtspCamera, waitFor } from './helpers/servers.js';

t.test('an RTSP camera killed mid-stream and restarted: reconnect, history reset, timestamps keep increasing', async (t) => {
  let cam = await startRtspCamera();
  const port = cam.port;
  t.teardown(() => cam.server.stop());
  const log = memoryLogger();
  const stats = new RunStats();
  const live = { ...defaultLiveSettings(), readTimeoutMs: 2000, reconnect: { enabled: true, initialDelayMs: 200, maxDelayMs: 1000, maxAttempts: 0 } };
  const source = new LiveSource({ input: cam.url, live, log });
  const model = new RecordingModel(2, true);
  const stop = new AbortController();
  let killed = false;
  const sink = new NullSink({
    keep: true,
    onWrite: (f) => {
      if (f.index >= 30 && !killed) {
        killed = true;
        void cam.server.stop('SIGKILL').then(async () => {
          await new Promise((r) => setTimeout(r, 1500));
          cam = await startRtspCamera({ port });
        });
      }
      if (stats.get('reconnects') > 0 && sink.frames.filter((x) => x.discontinuity).length > 0 && sink.frames.length > 0) {
        const sinceBreak = sink.frames.length - sink.frames.findIndex((x) => x.discontinuity);
        if (sinceBreak >= 25) stop.abort();
      }
    },
  });
  const run = runPipeline({ source, model, sink, credit: new Credit(2), signal: stop.signal, log, stats });
  const timeout = setTimeout(() => stop.abort(), 60000);
  const summary = await run;
  clearTimeout(timeout);
  await waitFor(() => killed, 1000, 'the kill');
  t.equal(stats.get('reconnects'), 1, 'one reconnect counted');
  t.match(log.lines.join('\n'), /reconnecting/, 'the loss is logged');
  const frames = sink.frames;
  const breaks = frames.filter((f) => f.discontinuity);
  t.equal(breaks.length, 1, 'one frame marks the break');
  const at = frames.indexOf(breaks[0]!);
  t.ok(at > 25 && frames.length - at >= 25, `frames before (${at}) and after (${frames.length - at}) the break`);
  t.ok(frames.every((f, i) => i === 0 || f.pts > frames[i - 1]!.pts), 'timestamps strictly increase across the reconnect');
  const window = model.windows.find((w) => w.current === breaks[0]!.index)!;
  t.same([window.previousInput, window.previousOutput], [null, null], 'the model got no history on the first frame after the reconnect');
  const next = model.windows.find((w) => w.current === frames[at + 1]!.index)!;
  t.equal(next.previousInput, breaks[0]!.index, 'history builds up again afterwards');
  t.equal(summary.state, 'aborted');
});
