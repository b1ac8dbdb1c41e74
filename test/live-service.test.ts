import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { clips, probeStreams, probeVideoFrames } from './helpers/media.js';
import { CLI } from './helpers/cli.js';
import { freePort, Managed, startRtspCamera, waitFor } from './helpers/servers.js';
import { parsePrometheus, sampleValue } from './helpers/prometheus.js';
import { runCliAsync } from './helpers/live-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-serve-'));

interface PipelineView {
  id: string;
  state: string;
  inputFps: number;
  outputFps: number;
  latencyMs: { p50: number | null; p95: number | null };
  framesIn: number;
  framesOut: number;
  drops: number;
  fallbacks: number;
  modelFrames: number;
  restarts: number;
  reconnects: number;
  lastError: { message: string; at: string } | null;
}

async function api(base: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown; text: string }> {
  let res: Response;
  try {
    res = await fetch(base + path, init);
  } catch (err) {
    // a kept-alive connection the server closed as it was reused (its idle timeout): ask again, as HTTP clients do
    if (init.method && init.method !== 'GET') throw err;
    res = await fetch(base + path, init);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text };
}

async function pipelines(base: string): Promise<Map<string, PipelineView>> {
  const r = await api(base, '/pipelines');
  return new Map((r.body as PipelineView[]).map((p) => [p.id, p]));
}

/** ffmpeg's own decode of the file: its exit status, its errors (stderr) and the video frames it decoded. */
function decode(path: string): { code: number | null; errors: string; frames: number } {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', path, '-map', '0:v:0', '-f', 'framecrc', '-'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, errors: r.stderr.trim(), frames: r.stdout.split('\n').filter((l) => /^\d+,/.test(l)).length };
}

function decodesCleanly(t: Tap.Test, path: string, what: string): void {
  const d = decode(path);
  t.ok(d.code === 0 && d.errors === '' && d.frames > 0, `${what}: ffmpeg exit ${d.code}, ${d.frames} frames decoded, errors: ${JSON.stringify(d.errors.slice(0, 300))}`);
}

t.test('serve: two pipelines and a broken one, the API, metrics, stop/start, a camera that drops out, SIGTERM', async (t) => {
  let cam = await startRtspCamera();
  const camPort = cam.port;
  t.teardown(() => cam.server.stop());
  const hlsDir = join(tmp, 'hls');
  const recDir = join(tmp, 'rec');
  writeFileSync(join(tmp, 'cam.yaml'), `id: cam\nsource:\n  url: ${cam.url}\n  readTimeoutMs: 2000\n  reconnect: { initialDelayMs: 300, maxDelayMs: 1000 }\nmodel: { id: bicubic, scale: 2 }\nsinks:\n  - url: ${hlsDir}/index.m3u8\n    hls: { segmentSeconds: 1, listSize: 4 }\n`);
  writeFileSync(join(tmp, 'rec.json'), JSON.stringify({ id: 'rec', source: { url: cam.url, rtspTransport: 'udp', readTimeoutMs: 2000, reconnect: { initialDelayMs: 300, maxDelayMs: 1000 } }, model: { id: 'bicubic', scale: 2 }, policy: { mode: 'fallback' }, sinks: [{ url: `${recDir}/part-%03d.mkv`, segmentSeconds: 1 }] }));
  writeFileSync(join(tmp, 'broken.yaml'), `id: broken\nsource: { url: '${cam.url}' }\nmodel: { id: no-such-model }\nsinks: [ { url: '${tmp}/never.mkv' } ]\nrestart: { initialDelayMs: 200, maxDelayMs: 400 }\n`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const serve = new Managed('serve', process.execPath, [CLI, 'serve', join(tmp, 'cam.yaml'), join(tmp, 'rec.json'), join(tmp, 'broken.yaml'), '--listen', `127.0.0.1:${port}`]);
  t.teardown(() => serve.stop('SIGKILL'));
  await serve.ready(/API on http:\/\/127\.0\.0\.1:\d+/, 20000);

  const health = await api(base, '/health');
  t.equal(health.status, 200);
  t.match(health.body, { status: 'ok', pipelines: 3 });

  await waitFor(async () => {
    const p = await pipelines(base);
    return (p.get('cam')?.framesOut ?? 0) > 20 && (p.get('rec')?.framesOut ?? 0) > 20;
  }, 60000, 'both pipelines to write frames');
  const list = await pipelines(base);
  const cam1 = list.get('cam')!;
  t.equal(cam1.state, 'running');
  t.ok(cam1.inputFps > 0 && cam1.outputFps > 0, `input ${cam1.inputFps} fps, output ${cam1.outputFps} fps`);
  t.ok(cam1.latencyMs.p50 !== null && cam1.latencyMs.p95! >= cam1.latencyMs.p50!, `latency p50 ${cam1.latencyMs.p50} ms, p95 ${cam1.latencyMs.p95} ms`);
  t.match(cam1, { drops: Number, fallbacks: Number, restarts: 0, reconnects: 0, lastError: null });
  // rec runs the fallback policy: every frame is kept (the late ones through bicubic), none dropped
  const rec1 = list.get('rec')!;
  t.equal(rec1.drops, 0, `fallback drops nothing (${rec1.framesIn} in, ${rec1.framesOut} out, ${rec1.fallbacks} through the fallback)`);
  await waitFor(async () => ((await pipelines(base)).get('broken')?.restarts ?? 0) >= 2, 30000, 'the broken pipeline to be restarted twice');
  const broken = (await pipelines(base)).get('broken')!;
  t.match(broken.lastError?.message, /unknown model 'no-such-model'/, 'the broken pipeline keeps its last error');
  t.ok(['restarting', 'starting', 'running'].includes(broken.state), `and keeps being restarted (${broken.state})`);
  t.equal((await pipelines(base)).get('cam')!.state, 'running', 'while the others run on');

  const metrics = await api(base, '/metrics');
  t.equal(metrics.status, 200);
  const { samples, types } = parsePrometheus(metrics.text);
  t.equal(types.get('stream_sr_frames_out_total'), 'counter');
  t.equal(types.get('stream_sr_latency_seconds'), 'summary');
  t.ok(sampleValue(samples, 'stream_sr_frames_out_total', { pipeline: 'cam' })! > 20, 'frames out of cam in the metrics');
  t.equal(sampleValue(samples, 'stream_sr_pipeline_state', { pipeline: 'cam', state: 'running' }), 1);
  t.ok(sampleValue(samples, 'stream_sr_restarts_total', { pipeline: 'broken' })! >= 2);
  t.ok(sampleValue(samples, 'stream_sr_latency_seconds', { pipeline: 'cam', quantile: '0.95' })! > 0);

  t.equal((await api(base, '/pipelines/nope/stop', { method: 'POST' })).status, 404, 'unknown pipeline: 404');
  t.equal((await api(base, '/pipelines/cam/stop')).status, 405, 'GET on an action: 405');
  t.equal((await api(base, '/nothing')).status, 404);

  const stopped = await api(base, '/pipelines/rec/stop', { method: 'POST' });
  t.equal(stopped.status, 200);
  t.match(stopped.body, { id: 'rec', state: 'stopped' });
  const parts = readdirSync(recDir).filter((f) => f.endsWith('.mkv'));
  t.ok(parts.length >= 1, `recorded parts: ${parts.join(' ')}`);
  for (const f of parts) decodesCleanly(t, join(recDir, f), `${f} is finalized and decodes cleanly`);
  const camOut = (await pipelines(base)).get('cam')!.framesOut;
  await new Promise((r) => setTimeout(r, 2000));
  t.ok((await pipelines(base)).get('cam')!.framesOut > camOut, 'stopping one pipeline leaves the other running');
  const started = await api(base, '/pipelines/rec/start', { method: 'POST' });
  t.equal(started.status, 202);
  await waitFor(async () => (await pipelines(base)).get('rec')?.state === 'running', 30000, 'rec to run again');

  // the camera drops out and comes back on the same port
  await cam.server.stop('SIGKILL');
  await new Promise((r) => setTimeout(r, 2500));
  cam = await startRtspCamera({ port: camPort });
  await waitFor(async () => {
    const p = await pipelines(base);
    return (p.get('cam')?.reconnects ?? 0) >= 1 && (p.get('rec')?.reconnects ?? 0) >= 1;
  }, 90000, 'both pipelines to reconnect').catch(async (err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify([...(await pipelines(base)).values()])}\n${serve.output.slice(-3000)}`);
  });
  const before = (await pipelines(base)).get('cam')!.framesOut;
  await new Promise((r) => setTimeout(r, 2000));
  const after = (await pipelines(base)).get('cam')!;
  t.ok(after.framesOut > before + 10, `frames keep coming after the reconnect (${before} → ${after.framesOut})`);
  t.equal(after.state, 'running');
  t.equal(after.restarts, 0, 'a reconnect is not a restart');
  const m2 = parsePrometheus((await api(base, '/metrics')).text).samples;
  t.ok(sampleValue(m2, 'stream_sr_reconnects_total', { pipeline: 'cam' })! >= 1, 'the reconnect shows in /metrics');

  serve.child.kill('SIGTERM');
  const code = await serve.exit;
  t.equal(code, 0, 'SIGTERM drains and exits 0');
  t.match(serve.output, /outputs finalized/);
  const playlist = readFileSync(join(hlsDir, 'index.m3u8'), 'utf8');
  t.match(playlist, /#EXT-X-ENDLIST/, 'the HLS playlist is finished');
  const v = probeStreams(join(hlsDir, 'index.m3u8')).find((s) => s.codec_type === 'video')!;
  t.same([v.width, v.height], [320, 192], 'the HLS output plays at 320x192');
  const frames = probeVideoFrames(join(hlsDir, 'index.m3u8'));
  t.ok(frames.length > 20 && frames.every((f, i) => i === 0 || f.ptsTime > frames[i - 1]!.ptsTime), `its ${frames.length} frames have increasing timestamps across the reconnect`);
  for (const f of readdirSync(recDir).filter((x) => x.endsWith('.mkv'))) decodesCleanly(t, join(recDir, f), `${f} finalized`);
});

t.test('serve refuses a non-loopback address without a token, and then demands it', async (t) => {
  const cam = join(tmp, 'token.yaml');
  writeFileSync(cam, `source: { url: 'rtsp://127.0.0.1:9/none' }\nsinks: [ { url: '${tmp}/none.mkv' } ]\n`);
  const port = await freePort();
  const refused = await runCliAsync(['serve', cam, '--listen', `0.0.0.0:${port}`], { env: { STREAM_SR_TOKEN: '' } });
  t.equal(refused.code, 2, 'exit 2');
  t.match(refused.stderr, /reachable from other machines: give a bearer token with --token or the STREAM_SR_TOKEN/);
  const serve = new Managed('serve', process.execPath, [CLI, 'serve', cam, '--listen', `0.0.0.0:${port}`], { STREAM_SR_TOKEN: 's3cret' });
  t.teardown(() => serve.stop('SIGKILL'));
  await serve.ready(/bearer token required/, 20000);
  const base = `http://127.0.0.1:${port}`;
  t.equal((await api(base, '/health')).status, 200, '/health needs no token');
  t.equal((await api(base, '/pipelines')).status, 401, 'no token: 401');
  t.equal((await api(base, '/metrics', { headers: { authorization: 'Bearer wrong' } })).status, 401, 'wrong token: 401');
  t.equal((await api(base, '/pipelines', { headers: { authorization: 'Bearer s3cret' } })).status, 200, 'right token: 200');
  serve.child.kill('SIGTERM');
  t.equal(await serve.exit, 0);
});

/** ffmpeg sending a test pattern as MPEG-TS to a udp:// pipeline, as a camera encoder would. */
function udpSender(port: number, seconds: number): Managed {
  return new Managed('udp sender', 'ffmpeg', ['-v', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', `testsrc2=size=160x96:rate=25:duration=${seconds}`, '-c:v', 'libx264', '-tune', 'zerolatency', '-g', '25', '-f', 'mpegts', `udp://127.0.0.1:${port}?pkt_size=1316`]);
}

t.test('serve: model frames are the frames the model upscaled, in /pipelines and /metrics (a batch job and a udp:// input)', async (t) => {
  const udpPort = await freePort('udp');
  writeFileSync(join(tmp, 'count-batch.yaml'), `id: batch\nsource: { url: '${clips.small()}' }\nmodel: { id: bicubic, scale: 2 }\nsinks: [ { url: '${tmp}/count.mkv' } ]\n`);
  writeFileSync(join(tmp, 'count-udp.yaml'), `id: udpcam\nsource: { url: 'udp://127.0.0.1:${udpPort}', readTimeoutMs: 1000 }\nmodel: { id: bicubic, scale: 2 }\nsinks: [ { url: '${tmp}/count-udp.mkv' } ]\n`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const serve = new Managed('serve', process.execPath, [CLI, 'serve', join(tmp, 'count-batch.yaml'), join(tmp, 'count-udp.yaml'), '--listen', `127.0.0.1:${port}`]);
  t.teardown(() => serve.stop('SIGKILL'));
  await serve.ready(/API on http:\/\/127\.0\.0\.1:\d+/, 20000);
  const sender = udpSender(udpPort, 4);
  t.teardown(() => sender.stop('SIGKILL'));
  await waitFor(async () => {
    const p = await pipelines(base);
    return p.get('batch')?.state === 'completed' && (p.get('udpcam')?.framesOut ?? 0) >= 25;
  }, 30000, 'the batch job to complete and the udp pipeline to write frames');
  t.equal((await api(base, '/pipelines/udpcam/stop', { method: 'POST' })).status, 200, 'the udp pipeline drained, its counts final');
  const list = await pipelines(base);
  const { samples } = parsePrometheus((await api(base, '/metrics')).text);
  for (const id of ['batch', 'udpcam']) {
    const p = list.get(id)!;
    t.ok(p.framesOut > 0, `${id}: ${p.framesOut} frames written`);
    t.equal(p.modelFrames, p.framesOut, `${id}: every frame written went through the model (modelFrames in /pipelines)`);
    t.equal(sampleValue(samples, 'stream_sr_model_frames_total', { pipeline: id }), p.framesOut, `${id}: stream_sr_model_frames_total`);
  }
  t.equal(list.get('batch')!.framesOut, 10);
  serve.child.kill('SIGTERM');
  t.equal(await serve.exit, 0);
});

t.test('serve: a udp:// pipeline waiting for its sender is not in error, and stopping it is no error', async (t) => {
  const udpPort = await freePort('udp');
  const url = `udp://127.0.0.1:${udpPort}`;
  writeFileSync(join(tmp, 'wait.yaml'), `id: udpcam\nsource: { url: '${url}', readTimeoutMs: 500 }\nmodel: { id: bicubic, scale: 2 }\nsinks: [ { url: '${tmp}/wait/index.m3u8' } ]\n`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const serve = new Managed('serve', process.execPath, [CLI, 'serve', join(tmp, 'wait.yaml'), '--listen', `127.0.0.1:${port}`]);
  t.teardown(() => serve.stop('SIGKILL'));
  await serve.ready(/API on http:\/\/127\.0\.0\.1:\d+/, 20000);
  await new Promise((r) => setTimeout(r, 2500)); // several read timeouts with nothing received
  t.match((await pipelines(base)).get('udpcam'), { state: 'starting', lastError: null }, 'waiting: starting, no last error');
  const stopped = await api(base, '/pipelines/udpcam/stop', { method: 'POST' });
  t.match(stopped.body, { state: 'stopped', lastError: null }, 'a stop before any packet: stopped, no error');
  t.equal((await api(base, '/pipelines/udpcam/start', { method: 'POST' })).status, 202);
  const sender = udpSender(udpPort, 10);
  t.teardown(() => sender.stop('SIGKILL'));
  await waitFor(async () => ((await pipelines(base)).get('udpcam')?.framesOut ?? 0) >= 25, 30000, 'frames to flow');
  t.match((await pipelines(base)).get('udpcam'), { state: 'running', lastError: null }, 'running, no last error');
  serve.child.kill('SIGTERM');
  t.equal(await serve.exit, 0, 'SIGTERM drains and exits 0');
  const lines = serve.output.split('\n');
  t.same(lines.filter((l) => /\b(error|warning):/.test(l)), [], 'no error or warning line');
  t.same(lines.filter((l) => l.includes(url)).slice(0, 2), [`[udpcam] stream-sr: input '${url}': waiting for a sender`, `[udpcam] stream-sr: input '${url}': stopped before the stream could be opened; nothing was written`], 'waiting said once, and the stop as information');
});
