// serve --redis: a live pipeline (the test RTSP camera → HLS) held by one of two workers under a
// lock; that worker killed with -9; the other takes the pipeline over within 30 s (the default
// 10 s lock), the HLS playlist goes on (sequence and segment numbers rising, #EXT-X-DISCONTINUITY at
// the seam, timestamps increasing) and ffmpeg reads it; the API and /metrics show the cluster.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { CLI } from './helpers/cli.js';
import { probeVideoFrames } from './helpers/media.js';
import { freePort, Managed, startRtspCamera, waitFor } from './helpers/servers.js';
import { TestRedis } from './helpers/redis.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-cluster-live-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

function playlist(path: string): { sequence: number; segments: string[]; discontinuities: number; text: string } {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  return {
    sequence: Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? NaN),
    segments: text.split('\n').filter((l) => l.endsWith('.ts')),
    discontinuities: (text.match(/#EXT-X-DISCONTINUITY/g) ?? []).length,
    text,
  };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

t.test('a live pipeline moves to another worker when its worker is killed with -9', async (t) => {
  const redis = await TestRedis.start(tmp);
  t.teardown(() => redis.down());
  const cam = await startRtspCamera({ audio: false });
  t.teardown(() => cam.server.stop());
  const hlsDir = join(tmp, 'hls');
  const file = join(tmp, 'cam.yaml');
  writeFileSync(file, `id: cam\nsource: { url: '${cam.url}', readTimeoutMs: 1500, reconnect: { initialDelayMs: 300, maxDelayMs: 600 } }\nmodel: { id: bicubic, scale: 2 }\nsinks: [ { url: '${hlsDir}/index.m3u8', hls: { segmentSeconds: 1, listSize: 60 } } ]\n`);

  const workers = new Map<string, Managed>();
  for (const name of ['a', 'b']) workers.set(name, await new Managed(name, process.execPath, [CLI, 'worker', '--redis', redis.url, '--name', name]).ready(/taking jobs/));
  t.teardown(async () => {
    for (const w of workers.values()) await w.stop('SIGKILL');
  });
  const port = await freePort();
  const serve = await new Managed('serve', process.execPath, [CLI, 'serve', file, '--redis', redis.url, '--listen', `127.0.0.1:${port}`]).ready(/serving the cluster/);
  t.teardown(() => serve.stop());
  const api = async (path: string): Promise<any> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return path === '/metrics' ? res.text() : res.json();
  };

  await waitFor(() => playlist(join(hlsDir, 'index.m3u8')).segments.length >= 3, 60_000, 'three HLS segments');
  const view = await api('/pipelines/cam');
  t.equal(view.state, 'active');
  t.ok(view.worker === 'a' || view.worker === 'b', `running on worker ${view.worker}`);
  const metrics: string = await api('/metrics');
  t.match(metrics, /^stream_sr_cluster_workers 2$/m, '/metrics: two workers');
  t.match(metrics, new RegExp(`^stream_sr_cluster_pipeline_worker\\{pipeline="cam",worker="${view.worker}"\\} 1$`, 'm'), '/metrics: where the pipeline runs');
  t.match(metrics, /^stream_sr_cluster_jobs\{state="active"\} 1$/m);
  const cluster = await api('/cluster');
  const pipelinePid: number = (JSON.parse(execFileSync('redis-cli', ['-p', String(redis.port), 'hget', 'bull:stream-sr:live-cam', 'progress'], { encoding: 'utf8' })) as { pid: number }).pid;
  t.ok(pipelinePid > 0 && alive(pipelinePid), `the pipeline's own process (${pipelinePid}) runs`);
  t.equal(cluster.workers.length, 2);

  const holder = view.worker as string;
  const other = holder === 'a' ? 'b' : 'a';
  const before = playlist(join(hlsDir, 'index.m3u8'));
  const killedAt = Date.now();
  await workers.get(holder)!.stop('SIGKILL');
  workers.delete(holder);
  await waitFor(() => !alive(pipelinePid), 10_000, 'the dead worker\'s pipeline process to end (no second writer)');
  t.pass(`the dead worker's pipeline process ended ${Date.now() - killedAt} ms after the kill (it drains when its parent goes)`);

  await waitFor(() => /live pipeline cam .* started here, taken over from/.test(workers.get(other)!.output), 40_000, 'the other worker to take the pipeline over');
  const takenAt = Date.now();
  await waitFor(() => {
    const p = playlist(join(hlsDir, 'index.m3u8'));
    return p.segments.length > before.segments.length + 2 && p.text.lastIndexOf('#EXT-X-DISCONTINUITY') > p.text.indexOf(before.segments.at(-1)!);
  }, 40_000, 'new segments after the seam');
  const resumedAfter = (Date.now() - killedAt) / 1000;
  t.ok(resumedAfter <= 30, `new segments ${resumedAfter.toFixed(1)} s after the kill (taken over after ${((takenAt - killedAt) / 1000).toFixed(1)} s)`);
  const moved = await api('/pipelines/cam');
  t.equal(moved.worker, other, `now on ${other}`);
  t.equal(moved.takeovers, 1);
  t.match(await api('/metrics'), /^stream_sr_cluster_workers 1$/m, '/metrics: one worker left');

  const after = playlist(join(hlsDir, 'index.m3u8'));
  t.equal(after.sequence, before.sequence, 'MEDIA-SEQUENCE did not start over');
  t.same(after.segments.slice(0, before.segments.length), before.segments, 'the segments from before are still listed, in order');
  t.equal(new Set(after.segments).size, after.segments.length, 'no segment name is used twice');
  const numbers = after.segments.map((s) => Number(/(\d+)\.ts$/.exec(s)![1]));
  t.ok(numbers.every((n, i) => i === 0 || n > numbers[i - 1]!), `segment numbers rise: ${numbers.join(' ')}`);
  t.ok(after.discontinuities >= 1, '#EXT-X-DISCONTINUITY at the seam');

  // SIGTERM: a live pipeline is handed back (drained, its HLS finished), the worker exits 0
  const last = workers.get(other)!;
  workers.delete(other);
  last.child.kill('SIGTERM');
  const guard = setTimeout(() => last.child.kill('SIGKILL'), 30_000);
  t.equal(await last.exit, 0, 'the last worker drains on SIGTERM and exits 0');
  clearTimeout(guard);
  t.match(last.output, /live pipeline cam handed back to the queue/);
  t.match(playlist(join(hlsDir, 'index.m3u8')).text, /#EXT-X-ENDLIST/, 'the playlist is finished');
  t.equal((await api('/pipelines/cam')).state, 'delayed', 'the pipeline waits on the queue for a worker');
  const frames = probeVideoFrames(join(hlsDir, 'index.m3u8'));
  const backwards = frames.filter((f, i) => i > 0 && f.ptsTime <= frames[i - 1]!.ptsTime).length;
  t.equal(backwards, 0, `ffmpeg reads the playlist; timestamps keep increasing across the takeover (${frames.length} frames, to ${frames.at(-1)?.ptsTime} s)`);
});
