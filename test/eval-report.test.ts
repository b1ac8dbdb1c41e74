import t from 'tap';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ffmpeg, sharedData } from './helpers/media.js';
import { runCli } from './helpers/cli.js';
import { chromiumPath, launchChromium, recordProblems, screenshot } from './helpers/browser.js';

const chromium = chromiumPath();
const walk = sharedData('vid4_walk', 'gt.mkv') && sharedData('vid4_walk', 'lr_x4.mkv') ? sharedData('vid4_walk')! : undefined;
const skip = !walk ? 'no Vid4 data (../shared/data/vid4_walk or STREAM_SR_SHARED_DATA)' : !chromium ? 'no chromium (apt install chromium, or set CHROMIUM_PATH)' : false;
const FRAMES = 12;

t.test('eval --html on Vid4 walk: a self-contained report whose charts and crops are there and sized', { skip }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-report-'));
  // the first 12 frames of walk keep the test short; still the real sequence, both models really run
  const gt = join(tmp, 'gt.mkv');
  const lr = join(tmp, 'lr.mkv');
  ffmpeg(['-i', join(walk!, 'gt.mkv'), '-frames:v', String(FRAMES), '-c:v', 'ffv1', gt]);
  ffmpeg(['-i', join(walk!, 'lr_x4.mkv'), '-frames:v', String(FRAMES), '-c:v', 'ffv1', lr]);
  const outputs: string[] = [];
  for (const model of ['bicubic', 'esrgan-slim']) {
    const out = join(tmp, `${model}.mkv`);
    const r = runCli(['-i', lr, '-o', out, '-m', model, '--scale', '4', '-c:v', 'ffv1', '-q']);
    t.equal(r.code, 0, `${model} upscaled the clip ${r.stderr}`);
    outputs.push(out);
  }
  const html = join(tmp, 'report.html');
  const r = runCli(['eval', '--ref', gt, '--input', lr, '--test', outputs[0]!, '--test', outputs[1]!, '--label', 'bicubic', '--label', 'esrgan-slim', '--crop', '4', '--json', '--html', html]);
  t.equal(r.code, 0, `eval --html ran ${r.stderr}`);
  const reports = JSON.parse(r.stdout.toString()) as Array<{ frames: number; mean: { psnrY: number; ssimY: number } }>;
  t.equal(reports.length, 2, 'one JSON report per --test');
  t.ok(statSync(html).size < 3 << 20, `the report is a few hundred KiB (${(statSync(html).size / 1024).toFixed(0)} KiB)`);

  const browser = await launchChromium(chromium!);
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const problems = recordProblems(page);
  const fetched: string[] = [];
  page.on('request', (req) => !/^(file|data):/.test(req.url()) && fetched.push(req.url()));
  await page.setViewport({ width: 1280, height: 720 });
  await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
  const seen = await page.evaluate(() => {
    const charts = [...document.querySelectorAll('svg.chart')].map((svg) => ({
      title: svg.getAttribute('aria-label'),
      lines: [...svg.querySelectorAll('path')].map((p) => (p.getAttribute('d') ?? '').split(/[ML]/).filter(Boolean).length),
      bars: svg.querySelectorAll('rect[height]').length,
      width: svg.getBoundingClientRect().width,
      height: svg.getBoundingClientRect().height,
    }));
    const crops = [...document.querySelectorAll('.crops img')].map((img) => {
      const i = img as HTMLImageElement;
      return { ok: i.complete && i.naturalWidth > 0, natural: [i.naturalWidth, i.naturalHeight], shown: [i.width, i.height], caption: i.nextElementSibling?.textContent, src: i.src.slice(0, 30), full: i.src };
    });
    const table = [...document.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent));
    return { charts, crops, table, scripts: document.scripts.length, links: document.querySelectorAll('link[href]').length };
  });
  const psnr = seen.charts.find((c) => c.title === 'PSNR-Y per frame');
  const ssim = seen.charts.find((c) => c.title === 'SSIM-Y per frame');
  t.same(psnr?.lines, [FRAMES, FRAMES], 'PSNR-Y chart: one line of 12 frames per model');
  t.same(ssim?.lines, [FRAMES, FRAMES], 'SSIM-Y chart: one line of 12 frames per model');
  t.ok(seen.charts.some((c) => /Flicker/.test(c.title ?? '') && c.bars >= 2), 'a flicker chart with a bar per model');
  for (const c of seen.charts) t.ok(c.width > 300 && c.height > 60, `${c.title} drawn at ${c.width.toFixed(0)}x${c.height.toFixed(0)}`);
  t.equal(seen.crops.length % 4, 0, 'crops come in rows of before, two models, ground truth');
  t.ok(seen.crops.length >= 4, `${seen.crops.length} crops`);
  t.same([...new Set(seen.crops.map((c) => c.caption))], ['before: input, bicubic', 'bicubic', 'esrgan-slim', 'ground truth']);
  for (const c of seen.crops) {
    t.ok(c.ok && c.src.startsWith('data:image/png;base64,'), `${c.caption}: an inline PNG that decodes`);
    t.same(c.shown, c.natural, `${c.caption}: shown at full size (${c.natural.join('x')})`);
  }
  t.not(seen.crops[1]!.full, seen.crops[2]!.full, 'the two models’ crops differ');
  t.not(seen.crops[2]!.full, seen.crops[3]!.full, 'a model’s crop differs from the ground truth’s');
  t.equal(seen.table.length, 2);
  t.equal(seen.table[0]![2], reports[0]!.mean.psnrY.toFixed(2), 'the table gives the PSNR-Y eval computed');
  t.equal(seen.table[1]![3], reports[1]!.mean.ssimY.toFixed(4), 'the table gives the SSIM-Y eval computed');
  t.equal(seen.scripts + seen.links, 0, 'no script and no linked file');
  t.same(fetched, [], 'nothing fetched from anywhere: readable offline');
  t.same(problems, [], 'no console errors');
  await screenshot(page, 'report', { width: 1280, height: 720 });
  await screenshot(page, 'report', { width: 390, height: 844 });
});
