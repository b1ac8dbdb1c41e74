import t from 'tap';
import { RunStats } from '../src/core/stats.js';
import { memoryLogger } from '../src/core/log.js';
import { Credit } from '../src/core/credit.js';
import { runPipeline } from '../src/pipeline/run.js';
import { NullSink } from '../src/sinks/null-sink.js';
import { LiveSource } from '../src/sources/live-source.js';
import { defaultLiveSettings } from '../src/sources/live-options.js';
import { RecordingModel } from './helpers/harness.js';
import { ffmpegFeed, freePort, liveClip, liveClipLarger, startRtspCamera, waitFor } from './helpers/servers.js';

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
      // Counted in frames written, not by index: under load the drop policy skips indices.
      if (sink.frames.length >= 30 && !killed) {
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

t.test('a UDP sender restarting at another resolution: scaled to the negotiated size, history reset, timestamps increasing', async (t) => {
  const port = await freePort('udp');
  const log = memoryLogger();
  const stats = new RunStats();
  const source = new LiveSource({ input: `udp://127.0.0.1:${port}`, live: { ...defaultLiveSettings(), policy: 'queue' }, log });
  const model = new RecordingModel(2, true);
  const stop = new AbortController();
  const sink = new NullSink({
    keep: true,
    onWrite: () => {
      const at = sink.frames.findIndex((f) => f.discontinuity);
      if (at >= 0 && sink.frames.length - at >= 20) stop.abort();
    },
  });
  const run = runPipeline({ source, model, sink, credit: new Credit(2), signal: stop.signal, log, stats });
  await new Promise((r) => setTimeout(r, 300));
  const first = ffmpegFeed(liveClip(), ['-t', '2', '-an', '-c', 'copy', '-f', 'mpegts', `udp://127.0.0.1:${port}?pkt_size=1316`]);
  t.teardown(() => first.stop());
  await first.exit;
  const second = ffmpegFeed(liveClipLarger(), ['-an', '-c', 'copy', '-f', 'mpegts', `udp://127.0.0.1:${port}?pkt_size=1316`]);
  t.teardown(() => second.stop());
  const timeout = setTimeout(() => stop.abort(), 60000);
  await run;
  clearTimeout(timeout);
  const frames = sink.frames;
  t.ok(frames.every((f) => f.info.width === 320 && f.info.height === 192), 'every output frame keeps the negotiated 160x96 (x2) size');
  const at = frames.findIndex((f) => f.discontinuity);
  t.ok(at > 10, `the break comes after the first sender's frames (at ${at})`);
  t.match(log.lines.join('\n'), /the picture changes to 240x144 yuv420p; scaling to 160x96/);
  t.ok(frames.every((f, i) => i === 0 || f.pts > frames[i - 1]!.pts), 'timestamps strictly increase although the new sender starts its clock again');
  const window = model.windows.find((w) => w.current === frames[at]!.index)!;
  t.equal(window.previousInput, null, 'the model starts without history at the change');
});
