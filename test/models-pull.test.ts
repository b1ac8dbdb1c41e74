import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOG, REALESRGAN_BASE_URL } from '../src/models/catalog.js';
import { runCliAsync } from './helpers/cli.js';
import { ROOT, sharedData } from './helpers/media.js';
import { startModelServer } from './helpers/model-server.js';

const root = sharedData('models');
const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-pull-'));

t.test('the catalog checksums are the published ones (../shared/data/models/realesrgan/SHA256SUMS)', async (t) => {
  const sums = sharedData('models', 'realesrgan', 'SHA256SUMS');
  if (!sums) return t.skip('../shared/data/models is absent');
  const published = new Map(readFileSync(sums, 'utf8').trim().split('\n').map((l) => l.split(/\s+/).reverse() as [string, string]));
  const files = CATALOG.flatMap((e) => (e.source.kind === 'download' ? e.source.variants.flatMap((v) => [v.param, v.bin]) : []));
  t.equal(files.length, 6);
  for (const f of files) t.equal(f.sha256, published.get(f.name), `${f.name}`);
  t.match(REALESRGAN_BASE_URL, /^https:\/\/raw\.githubusercontent\.com\/upscayl\/custom-models\/4b6d2cf\/models$/);
});

/** Model folders and hidden leftovers (staging, downloads) in a models directory. */
const entries = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

t.test('pull against a local server: download with progress, sha256 check, conversion, registration', async (t) => {
  if (!root) return t.skip('../shared/data/models is absent');
  const server = await startModelServer(root);
  t.teardown(server.close);
  const out = join(tmp, 'ok');
  const r = await runCliAsync(['models', 'pull', 'realesr-general-x4v3', '--out', out, '--base-url', `${server.url}/realesrgan`]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /RealESRGAN_General_x4_v3\.bin +\[#+\] +100% 2\.4\/2\.4 MB sha256 ok/, 'a progress bar that ends at 100% with the checksum checked');
  t.match(r.stderr, /RealESRGAN_General_x4_v3\.bin +\[#*-+\] +\d+% /, 'intermediate progress is shown');
  t.match(r.stderr, /realesr-general-x4v3 converted and registered in /);
  t.same(server.requests.sort(), ['/realesrgan/RealESRGAN_General_x4_v3.bin', '/realesrgan/RealESRGAN_General_x4_v3.param']);
  t.same(entries(out), ['realesr-general-x4v3'], 'one model folder, no leftovers');
  t.same(entries(join(out, 'realesr-general-x4v3')), ['model.json', 'realesr-general-x4v3-x4.onnx']);
  const manifest = JSON.parse(readFileSync(join(out, 'realesr-general-x4v3', 'model.json'), 'utf8'));
  t.equal(manifest.downloadedFrom, `${server.url}/realesrgan`);
  t.match(manifest.license, /BSD-3-Clause/);
  const list = await runCliAsync(['models', '--model-dir', out]);
  t.match(list.stdout.toString(), /realesr-general-x4v3 +x4 +4\.9 MB +no +converted +.*ok\/realesr-general-x4v3/);

  const env = { STREAM_SR_MODEL_BASE_URL: `${server.url}/realesrgan` };
  const anime = await runCliAsync(['models', 'pull', 'realesr-animevideov3', '--out', out, '-q'], { env });
  t.equal(anime.code, 0, anime.stderr);
  t.notMatch(anime.stderr, /\[#/, '-q: no progress bar');
  t.same(JSON.parse(readFileSync(join(out, 'realesr-animevideov3', 'model.json'), 'utf8')).variants.map((v: { scale: number }) => v.scale), [2, 4], 'x2 and x4 from STREAM_SR_MODEL_BASE_URL');
});

for (const [fault, message] of [
  ['corrupt', /error in download: http:\/\/127\.0\.0\.1:\d+\/corrupt\/realesrgan\/RealESRGAN_General_x4_v3\.(param|bin): sha256 mismatch: got [0-9a-f]{64}, expected (22174924|85ee266b)/],
  ['cut', /error in download: http:\/\/127\.0\.0\.1:\d+\/cut\/realesrgan\/RealESRGAN_General_x4_v3\.(param|bin): connection (lost|closed) after \d+ of \d+ bytes/],
] as const) {
  t.test(`a ${fault === 'cut' ? 'download cut mid-file' : 'checksum mismatch'} registers nothing and keeps the model already there`, async (t) => {
    if (!root) return t.skip('../shared/data/models is absent');
    const server = await startModelServer(root);
    t.teardown(server.close);
    const out = join(tmp, fault);
    const r = await runCliAsync(['models', 'pull', 'realesr-general-x4v3', '--out', out, '--base-url', `${server.url}/${fault}/realesrgan`]);
    t.equal(r.code, 1, 'exit 1');
    t.match(r.stderr, message);
    t.same(entries(out), [], 'no model folder and no half-written leftovers');
    const list = await runCliAsync(['models', '--model-dir', out]);
    t.notOk(list.stdout.toString().includes(out), "nothing is listed from the failed pull's folder");
    if (existsSync(join(ROOT, 'models', 'realesr-general-x4v3'))) t.comment('realesr-general-x4v3 is also installed in models/ on this machine: "not pulled" is not checked');
    else t.match(list.stdout.toString(), /realesr-general-x4v3 +x4 +2\.4 MB download +no +not pulled/, 'still listed as not pulled');

    t.equal((await runCliAsync(['models', 'pull', 'realesr-general-x4v3', '--out', out, '-q', '--base-url', `${server.url}/realesrgan`])).code, 0);
    const before = readFileSync(join(out, 'realesr-general-x4v3', 'realesr-general-x4v3-x4.onnx'));
    const again = await runCliAsync(['models', 'pull', 'realesr-general-x4v3', '--out', out, '-q', '--base-url', `${server.url}/${fault}/realesrgan`]);
    t.equal(again.code, 1);
    t.same(entries(out), ['realesr-general-x4v3'], 'a failed update leaves the installed model, and nothing else');
    t.ok(readFileSync(join(out, 'realesr-general-x4v3', 'realesr-general-x4v3-x4.onnx')).equals(before), 'the installed model is unchanged');
  });
}

t.test('pull refuses what it cannot fetch, naming the reason', async (t) => {
  const server = await startModelServer(tmp);
  t.teardown(server.close);
  const missing = await runCliAsync(['models', 'pull', 'realesr-general-x4v3', '--out', join(tmp, 'missing'), '--base-url', `${server.url}/nothing-here`]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /nothing-here\/RealESRGAN_General_x4_v3\.param: HTTP 404/);
  const unknown = await runCliAsync(['models', 'pull', 'no-such-model', '--out', join(tmp, 'x')]);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /unknown model 'no-such-model' \(can be pulled: realesr-general-x4v3, realesr-animevideov3\)/);
  const bundled = await runCliAsync(['models', 'pull', 'esrgan-slim', '--out', join(tmp, 'x')]);
  t.equal(bundled.code, 2);
  t.match(bundled.stderr, /esrgan-slim comes with stream-sr, nothing to download; run `make models`/);
  writeFileSync(join(tmp, 'a-file'), '');
  const unwritable = await runCliAsync(['models', 'pull', 'realesr-general-x4v3', '--out', join(tmp, 'a-file', 'models'), '--base-url', `${server.url}/x`]);
  t.equal(unwritable.code, 2);
  t.match(unwritable.stderr, /cannot write models into .*a-file\/models \(ENOTDIR.*\); name another folder with --out/);
  const gone = await startModelServer(tmp);
  await gone.close();
  const closed = await runCliAsync(['models', 'pull', 'realesr-general-x4v3', '--out', join(tmp, 'x'), '--base-url', `${gone.url}/models`]);
  t.equal(closed.code, 1);
  t.match(closed.stderr, /127\.0\.0\.1:\d+\/models\/RealESRGAN_General_x4_v3\.param: cannot connect \(.*ECONNREFUSED/);
  t.same(entries(join(tmp, 'x')), [], 'nothing left behind');
  for (const base of ['file:///srv/models', '/srv/models']) {
    const local = await runCliAsync(['models', 'pull', 'realesr-general-x4v3', '--out', join(tmp, 'x'), '--base-url', base]);
    t.equal(local.code, 2, `--base-url ${base}: a usage error`);
    t.equal(local.stderr, `stream-sr: --base-url ${base}: only http:// and https:// URLs are taken (serve a local mirror folder over HTTP, e.g. python3 -m http.server)\n`);
  }
});
