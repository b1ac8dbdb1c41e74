import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { CLI } from './helpers/cli.js';
import { chromiumPath, launchChromium, recordProblems, screenshot } from './helpers/browser.js';
import { parsePrometheus, sampleValue } from './helpers/prometheus.js';
import { freePort, Managed, startRtspCamera, waitFor } from './helpers/servers.js';

const chromium = chromiumPath();
const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-console-'));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function previewCopies(base: string, id: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const copies = sampleValue(parsePrometheus(text).samples, 'stream_sr_preview_frame_copies_total', { pipeline: id });
  if (copies === undefined) throw new Error(`/metrics has no stream_sr_preview_frame_copies_total for ${id}`);
  return copies;
}

async function startServe(files: string[], extra: string[] = []): Promise<{ serve: Managed; base: string }> {
  const port = await freePort();
  const serve = new Managed('serve', process.execPath, [CLI, 'serve', ...files, '--listen', `127.0.0.1:${port}`, ...extra]);
  await serve.ready(/API on http:\/\/127\.0\.0\.1:\d+/, 20000);
  return { serve, base: `http://127.0.0.1:${port}` };
}

const cell = (page: Page, id: string, label: string): Promise<string> =>
  page.$eval(`tr[data-id="${id}"] td[data-label="${label}"]`, (td) => td.textContent ?? '');

t.test('the web console: live table, stop/start, before/after preview, HLS player; the preview costs nothing unwatched', { skip: chromium ? false : 'no chromium (apt install chromium, or set CHROMIUM_PATH)' }, async (t) => {
  const cam = await startRtspCamera({ size: '160x96', audio: false });
  t.teardown(() => cam.server.stop());
  writeFileSync(join(tmp, 'cam.yaml'), `id: cam\nsource: { url: '${cam.url}' }\nmodel: { id: esrgan-slim, scale: 4 }\nsinks:\n  - url: ${tmp}/hls/index.m3u8\n    hls: { segmentSeconds: 1, listSize: 6 }\n`);
  writeFileSync(join(tmp, 'rec.yaml'), `id: rec\nsource: { url: '${cam.url}' }\nmodel: { id: bicubic, scale: 2 }\nsinks: [ { url: '${tmp}/rec.mkv' } ]\noverwrite: true\n`);
  const { serve, base } = await startServe([join(tmp, 'cam.yaml'), join(tmp, 'rec.yaml')]);
  t.teardown(() => serve.stop('SIGKILL'));
  await waitFor(async () => {
    const list = (await (await fetch(`${base}/pipelines`)).json()) as Array<{ framesOut: number }>;
    return list.every((p) => p.framesOut > 10);
  }, 60000, 'both pipelines to write frames');

  // nobody has asked for a preview: not one frame copied, however long the pipelines run
  await sleep(2500);
  t.equal(await previewCopies(base, 'cam'), 0, 'no preview frame copies while nobody watches (cam)');
  t.equal(await previewCopies(base, 'rec'), 0, 'no preview frame copies while nobody watches (rec)');

  const browser = await launchChromium(chromium!);
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const problems = recordProblems(page);
  await page.setViewport({ width: 1280, height: 720 });
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await page.waitForSelector('tr[data-id="cam"]', { timeout: 10000 });
  await page.waitForSelector('tr[data-id="rec"]', { timeout: 10000 });
  t.equal(await page.$eval('#login', (f) => (f as HTMLFormElement).hidden), true, 'no login form without a token on loopback');
  t.match(await cell(page, 'cam', 'State'), 'running');
  t.match(await cell(page, 'cam', 'Input → output'), /160x96.*esrgan-slim x4.*hls/i);
  const framesBefore = await cell(page, 'cam', 'Frames in / out');
  await sleep(2500);
  const framesAfter = await cell(page, 'cam', 'Frames in / out');
  t.not(framesAfter, framesBefore, `the numbers are live (${framesBefore} → ${framesAfter})`);
  t.match(await cell(page, 'cam', 'fps in / out'), /^\d+\.\d \/ \d+\.\d$/);
  t.not(await cell(page, 'cam', 'fps in / out'), '0.0 / 0.0', 'a running pipeline shows its rate');

  // the first pipeline's details open on their own: charts, log, before/after
  await page.waitForFunction(() => (document.getElementById('after') as HTMLImageElement).naturalWidth > 0 && (document.getElementById('before') as HTMLImageElement).naturalWidth > 0, { timeout: 20000 });
  const pictures = await page.evaluate(() => {
    const read = (id: string): { w: number; h: number; data: number[] } => {
      const img = document.getElementById(id) as HTMLImageElement;
      const c = document.createElement('canvas');
      [c.width, c.height] = [img.naturalWidth, img.naturalHeight];
      const g = c.getContext('2d')!;
      g.drawImage(img, 0, 0);
      return { w: c.width, h: c.height, data: Array.from(g.getImageData(0, 0, c.width, c.height).data) };
    };
    const [b, a] = [read('before'), read('after')];
    let diff = 0;
    let spread = 0;
    for (let i = 0; i < a.data.length; i += 4) {
      diff += Math.abs(a.data[i]! - b.data[i]!);
      spread += Math.abs(a.data[i]! - a.data[0]!);
    }
    return { before: [b.w, b.h], after: [a.w, a.h], meanDiff: diff / (a.data.length / 4), spread: spread / (a.data.length / 4), index: document.getElementById('preview-info')!.textContent };
  });
  t.same(pictures.after, [640, 384], 'the output picture at the output size');
  t.same(pictures.before, [640, 384], 'the source picture scaled up to the output size');
  t.ok(pictures.spread > 5, `the picture is not flat (${pictures.spread.toFixed(1)})`);
  t.ok(pictures.meanDiff > 0.05, `before and after differ (mean |R diff| ${pictures.meanDiff.toFixed(2)})`);
  t.match(pictures.index, /^frame \d+/);
  await page.waitForFunction(() => document.querySelectorAll('#chart-fps path').length === 2, { timeout: 10000 });
  t.match(await page.$eval('#log', (p) => p.textContent), /state: running/, 'recent log lines shown');

  // watched: bounded copies, about one before/after pair a second
  const c0 = await previewCopies(base, 'cam');
  const t0 = Date.now();
  await sleep(6000);
  const copies = (await previewCopies(base, 'cam')) - c0;
  const seconds = (Date.now() - t0) / 1000;
  t.ok(copies > 0 && copies <= 2 * (Math.ceil(seconds) + 1) + 1, `while watched, ${copies} frame copies in ${seconds.toFixed(1)} s (at most one pair a second)`);
  t.equal(await previewCopies(base, 'rec'), 0, 'the pipeline nobody watches copies nothing');

  // the console's routes answer as an API does
  t.equal((await fetch(`${base}/pipelines/cam/preview.png?side=sideways`)).status, 400, 'side must be before or after');
  const playlist = await fetch(`${base}/pipelines/cam/hls/0/index.m3u8`);
  t.equal(playlist.status, 200);
  t.match(await playlist.text(), /^#EXTM3U/, 'the HLS playlist is served');
  t.equal((await fetch(`${base}/pipelines/cam/hls/0/cam.yaml`)).status, 404, 'nothing but the playlist and its segments');
  t.equal((await fetch(`${base}/pipelines/rec/hls/0/index.m3u8`)).status, 404, 'a pipeline without an HLS output serves none');
  const history = (await (await fetch(`${base}/pipelines/cam/history`)).json()) as { samples: Array<{ t: number; outputFps: number }>; log: Array<{ line: string }>; hls: string[] };
  t.ok(history.samples.length >= 5 && history.samples.every((x, i) => i === 0 || x.t > history.samples[i - 1]!.t), `${history.samples.length} samples, one a second, in order`);
  t.same(history.hls, ['/pipelines/cam/hls/0/index.m3u8']);

  // the HLS output plays in the page
  t.equal(await page.$eval('#player', (d) => (d as HTMLElement).hidden), false, 'an HLS pipeline gets a player');
  await page.waitForFunction(() => (document.getElementById('video') as HTMLVideoElement).readyState >= 2, { timeout: 30000 }).then(
    () => t.pass('the live output plays through hls.js'),
    () => t.fail('the HLS player got no picture in 30 s'),
  );

  // keyboard: stop then start the other pipeline
  await page.focus('tr[data-id="rec"] button.stop');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('tr[data-id="rec"] .state')?.textContent === 'stopped', { timeout: 30000 });
  t.pass('Stop (keyboard) shows stopped');
  t.equal(await page.$eval('tr[data-id="rec"] button.start', (b) => (b as HTMLButtonElement).disabled), false, 'Start is offered once stopped');
  await page.focus('tr[data-id="rec"] button.start');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => ['starting', 'running'].includes(document.querySelector('tr[data-id="rec"] .state')?.textContent ?? ''), { timeout: 15000 });
  t.pass('Start (keyboard) shows starting or running');

  await page.waitForFunction(() => (document.getElementById('video') as HTMLVideoElement).readyState >= 2, { timeout: 5000 }).catch(() => undefined);
  const shots = [await screenshot(page, 'console', { width: 1280, height: 720 }), await screenshot(page, 'console', { width: 390, height: 844 })];
  t.ok(await page.$eval('table', (el) => el.getBoundingClientRect().width <= 390), 'the phone layout fits the width');
  t.comment(`screenshots: ${shots.join(', ')}`);
  t.same(problems, [], 'no console errors or failed requests');

  // once the page is gone the preview stops copying within its watch window
  await page.close();
  await sleep(6500);
  const idle0 = await previewCopies(base, 'cam');
  await sleep(3000);
  t.equal(await previewCopies(base, 'cam'), idle0, 'no more copies once nobody watches');
});

t.test('the web console with a token: a login form, then every API call carries the bearer header', { skip: chromium ? false : 'no chromium (apt install chromium, or set CHROMIUM_PATH)' }, async (t) => {
  writeFileSync(join(tmp, 'file.yaml'), `id: file\nsource: { url: '${join(process.cwd(), 'samples', 'sample-320x180.mp4')}' }\nmodel: { id: bicubic, scale: 2 }\nsinks: [ { url: '${tmp}/file.mkv' } ]\n`);
  const { serve, base } = await startServe([join(tmp, 'file.yaml')], ['--token', 's3cret']);
  t.teardown(() => serve.stop('SIGKILL'));
  const browser = await launchChromium(chromium!);
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const problems = recordProblems(page);
  const calls: Array<{ path: string; auth: string | undefined }> = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    const path = url.pathname;
    if (url.protocol === 'http:' && !path.startsWith('/console/') && path !== '/') calls.push({ path, auth: r.headers()['authorization'] });
  });
  await page.setViewport({ width: 1280, height: 720 });
  t.equal((await fetch(`${base}/pipelines/file/history`)).status, 401, 'the history needs the token');
  t.equal((await fetch(`${base}/pipelines/file/preview.png?side=after`)).status, 401, 'the preview needs the token');
  t.equal((await fetch(`${base}/console/console.js`)).status, 200, 'the page\'s own files load without it (they hold no data)');
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await page.waitForSelector('#login:not([hidden])', { timeout: 10000 });
  t.equal(await page.$eval('#overview', (s) => (s as HTMLElement).hidden), true, 'no pipelines shown before signing in');
  t.same(calls, [], 'before signing in the page calls no API (it has no token to send)');
  const probes = calls.length;
  await page.type('#token', 's3cret');
  await page.keyboard.press('Enter');
  await page.waitForSelector('tr[data-id="file"]', { timeout: 10000 });
  await sleep(3000);
  const after = calls.slice(probes);
  t.ok(after.some((c) => c.path === '/pipelines') && after.some((c) => c.path.endsWith('/history')), `the page called the API (${[...new Set(after.map((c) => c.path))].join(', ')})`);
  t.same(after.filter((c) => c.auth !== 'Bearer s3cret'), [], 'every API call after signing in carries the bearer header');
  t.same(problems, [], 'no console errors or failed requests, login included');
  await screenshot(page, 'console-login', { width: 390, height: 844 });
});
