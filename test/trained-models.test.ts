import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogEntry } from '../src/models/catalog.js';
import { convertNcnnVariants } from '../src/models/convert-catalog.js';
import { installModelDir } from '../src/models/install.js';
import { decodeRgb, ffmpeg, fixture, probeVideoFrames, psnrY, sharedData } from './helpers/media.js';
import { runCli } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-trained-'));
const lr = sharedData('vid4_walk', 'lr_x4.mkv');
const gt = sharedData('vid4_walk', 'gt.mkv');
const realesrgan = sharedData('models', 'realesrgan');

/** The Real-ESRGAN models converted straight from ../shared/data/models (pulling is tested elsewhere). */
async function realEsrganDir(): Promise<string> {
  const dir = join(tmp, 'models');
  const files = (name: string) => ({ param: join(realesrgan!, `${name}.param`), bin: join(realesrgan!, `${name}.bin`) });
  await installModelDir(dir, 'realesr-general-x4v3', (d) => convertNcnnVariants(catalogEntry('realesr-general-x4v3')!, [{ scale: 4, ...files('RealESRGAN_General_x4_v3') }], d));
  await installModelDir(dir, 'realesr-animevideov3', (d) =>
    convertNcnnVariants(catalogEntry('realesr-animevideov3')!, [{ scale: 2, ...files('realesr-animevideov3-x2') }, { scale: 4, ...files('realesr-animevideov3-x4') }], d),
  );
  return dir;
}

function meanPsnrY(out: string, reference: Buffer[]): number {
  const frames = decodeRgb(out).frames;
  return frames.reduce((s, f, i) => s + psnrY(f, reference[i]!), 0) / frames.length;
}

t.test('every trained model upscales a real LR frame to the right size', async (t) => {
  if (!lr || !gt || !realesrgan) return t.skip('../shared/data is absent: skipping the trained-model runs');
  const oneFrame = fixture('walk-lr-1frame.mkv', (o) => ['-i', lr, '-frames:v', '1', '-c:v', 'ffv1', '-f', 'matroska', o]);
  const gtFrame = decodeRgb(gt).frames[0]!;
  const modelDir = await realEsrganDir();
  const runs: Array<[string, number]> = [['esrgan-slim', 2], ['esrgan-slim', 4], ['esrgan-medium', 2], ['esrgan-medium', 4], ['realesr-general-x4v3', 4], ['realesr-animevideov3', 2], ['realesr-animevideov3', 4]];
  for (const [model, scale] of runs) {
    const out = join(tmp, `${model}-x${scale}.mkv`);
    const r = runCli(['-i', oneFrame, '-o', out, '--model', model, '--model-dir', modelDir, '--scale', String(scale), '-c:v', 'ffv1', '-q']);
    t.equal(r.code, 0, `${model} x${scale} ran: ${r.stderr}`);
    const frames = probeVideoFrames(out);
    t.same(frames.map((f) => [f.width, f.height]), [[180 * scale, 120 * scale]], `${model} x${scale}: one ${180 * scale}x${120 * scale} frame`);
    const reference = join(tmp, `gt-x${scale}.mkv`);
    ffmpeg(['-i', gt, '-frames:v', '1', '-vf', `scale=${180 * scale}:${120 * scale}:flags=bicubic`, '-c:v', 'ffv1', reference]);
    const psnr = psnrY(decodeRgb(out).frames[0]!, scale === 4 ? gtFrame : decodeRgb(reference).frames[0]!);
    t.ok(psnr > 22, `${model} x${scale}: the picture is the scene (PSNR-Y ${psnr.toFixed(2)} dB against the ground truth at that size)`);
  }
});

t.test('vid4 walk x4: the default (causal-sr) beats esrgan-slim and bicubic on mean PSNR-Y', async (t) => {
  if (!lr || !gt) return t.skip('../shared/data/vid4_walk is absent');
  const reference = decodeRgb(gt).frames;
  const byDefault = join(tmp, 'walk-default.mkv');
  const r = runCli(['-i', lr, '-o', byDefault, '-c:v', 'ffv1', '-v']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /→ causal-sr x4 (fp32|int8) change-aware \(threshold [\d.]+\) →/, 'the default model is causal-sr x4 (fp32, or int8 on CPUs with 8-bit dot products), change-aware');
  const psnr: Record<string, number> = { 'causal-sr': meanPsnrY(byDefault, reference) };
  for (const model of ['esrgan-slim', 'bicubic']) {
    const out = join(tmp, `walk-${model}.mkv`);
    t.equal(runCli(['-i', lr, '-o', out, '--model', model, '-c:v', 'ffv1', '-q']).code, 0, `${model} ran`);
    psnr[model] = meanPsnrY(out, reference);
  }
  const [own, slim, bicubic] = [psnr['causal-sr']!, psnr['esrgan-slim']!, psnr['bicubic']!];
  t.comment(`vid4_walk x4, 47 frames, mean PSNR-Y (no crop): causal-sr ${own.toFixed(3)} dB, esrgan-slim ${slim.toFixed(3)} dB, bicubic ${bicubic.toFixed(3)} dB`);
  t.ok(own > slim, `causal-sr ${own.toFixed(3)} dB > esrgan-slim ${slim.toFixed(3)} dB`);
  t.ok(slim > bicubic, `esrgan-slim ${slim.toFixed(3)} dB > bicubic ${bicubic.toFixed(3)} dB`);
});
