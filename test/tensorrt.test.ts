import t from 'tap';
import { writeHistoryModel } from './helpers/history-model.js';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../src/core/log.js';
import { parseManifest } from '../src/models/manifest.js';
import { checkEngineWritten, checkRequiredInput, defaultEngineCacheRoot, planTensorRt, setUpProviders, withEnv } from '../src/inference/tensorrt.js';
import type { SessionSettings } from '../src/inference/session.js';
import type { VideoInfo } from '../src/core/frame.js';
import { clips } from './helpers/media.js';
import { runCli } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-trt-'));
const manifest = parseManifest(
  { format: 'stream-sr-model/1', id: 'esrgan-slim', kind: 'frame-graph', variants: [{ scale: 4, file: 'x.onnx' }], inputs: { frame: 'input' }, output: 'output', layout: 'NCHW', range: [0, 255], history: false },
  '/m/esrgan-slim/model.json',
);
const historyManifest = parseManifest(
  { ...manifest.extra, id: 'causal', inputs: { frame: 'cur', previousFrame: 'prev', previousOutput: 'prev_out' }, history: true },
  '/m/causal/model.json',
);

function settings(extra: Partial<SessionSettings> = {}): SessionSettings & { log: ReturnType<typeof memoryLogger> } {
  return { device: { device: 'tensorrt' }, log: memoryLogger(), ...extra } as SessionSettings & { log: ReturnType<typeof memoryLogger> };
}

/** A provider library folder where the TensorRT (and CUDA) provider files exist, as on a GPU install. */
function gpuLibraries(): string {
  const dir = join(tmp, `libs-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  for (const f of ['libonnxruntime_providers_tensorrt.so', 'libonnxruntime_providers_cuda.so']) writeFileSync(join(dir, f), '');
  return dir;
}

t.test('the engine cache lives under the user cache folder', async (t) => {
  t.equal(defaultEngineCacheRoot({ XDG_CACHE_HOME: '/var/cache/me' }, '/home/me'), '/var/cache/me/stream-sr/trt');
  t.equal(defaultEngineCacheRoot({}, '/home/me'), '/home/me/.cache/stream-sr/trt');
});

t.test('the TensorRT plan: cache folder per model/scale/precision/shape, and the ORT_TENSORRT_* variables', async (t) => {
  const plain = planTensorRt(manifest, 4, settings(), { XDG_CACHE_HOME: '/c' });
  t.equal(plain.cacheDir, '/c/stream-sr/trt/esrgan-slim-x4-fp32');
  t.same(plain.env, { ORT_TENSORRT_ENGINE_CACHE_ENABLE: '1', ORT_TENSORRT_CACHE_PATH: '/c/stream-sr/trt/esrgan-slim-x4-fp32', ORT_TENSORRT_FP16_ENABLE: '0' });
  const cache = join(tmp, 'cache');
  const fixed = planTensorRt(manifest, 4, settings({ fp16: true, engineCacheDir: cache, fixedInputShape: { height: 180, width: 320 } }));
  t.equal(fixed.cacheDir, join(cache, 'esrgan-slim-x4-fp16-320x180'));
  t.same(fixed.env, {
    ORT_TENSORRT_ENGINE_CACHE_ENABLE: '1',
    ORT_TENSORRT_CACHE_PATH: join(cache, 'esrgan-slim-x4-fp16-320x180'),
    ORT_TENSORRT_FP16_ENABLE: '1',
    ORT_TENSORRT_PROFILE_MIN_SHAPES: 'input:1x3x180x320',
    ORT_TENSORRT_PROFILE_OPT_SHAPES: 'input:1x3x180x320',
    ORT_TENSORRT_PROFILE_MAX_SHAPES: 'input:1x3x180x320',
  });
  t.ok(fixed.firstBuild, 'no engine yet');
  mkdirSync(fixed.cacheDir, { recursive: true });
  writeFileSync(join(fixed.cacheDir, 'TensorrtExecutionProvider_TRTKernel_graph_esrgan_slim_x4_0_0_sm86.engine'), '');
  t.notOk(planTensorRt(manifest, 4, settings({ fp16: true, engineCacheDir: cache, fixedInputShape: { height: 180, width: 320 } })).firstBuild, 'an engine file in the folder: not a first build');
  const history = planTensorRt(historyManifest, 2, settings({ fixedInputShape: { height: 90, width: 160 } }), {});
  t.equal(history.env.ORT_TENSORRT_PROFILE_MIN_SHAPES, 'cur:1x3x90x160,prev:1x3x90x160,prev_out:1x3x180x320', 'every frame input of a history model, the output-sized one scaled');
});

t.test('with TensorRT present: the first run says an engine is being built; a later run reuses it', async (t) => {
  const libs = gpuLibraries();
  const cache = join(tmp, 'cache2');
  const s = settings({ engineCacheDir: cache, fp16: true });
  const setup = setUpProviders(manifest, 4, s, libs);
  t.equal(setup.tensorrt?.cacheDir, join(cache, 'esrgan-slim-x4-fp16'));
  t.match(s.log.lines, [/^info: TensorRT: building an engine for esrgan-slim x4, fp16, dynamic input size into .*cache2\/esrgan-slim-x4-fp16; the first run takes minutes/]);
  const warnings: string[] = [];
  checkEngineWritten(setup, (m) => warnings.push(m));
  t.match(warnings, [/TensorRT wrote no engine into .*esrgan-slim-x4-fp16: this onnxruntime build did not take the ORT_TENSORRT_\* settings/], 'an engine that never appears is reported');
  mkdirSync(setup.tensorrt!.cacheDir, { recursive: true });
  writeFileSync(join(setup.tensorrt!.cacheDir, 'a.engine'), '');
  const again = settings({ engineCacheDir: cache, fp16: true, log: memoryLogger() });
  setUpProviders(manifest, 4, again, libs);
  t.notMatch(again.log.lines.join('\n'), /building an engine/);
});

t.test('a fixed engine shape refuses frames of another size', async (t) => {
  const setup = setUpProviders(manifest, 4, settings({ fixedInputShape: { height: 48, width: 64 }, engineCacheDir: join(tmp, 'c3') }), gpuLibraries());
  const info = (width: number, height: number) => ({ width, height }) as VideoInfo;
  t.doesNotThrow(() => checkRequiredInput(setup, info(64, 48), 'esrgan-slim'));
  t.throws(() => checkRequiredInput(setup, info(320, 180), 'esrgan-slim'), /the input is 320x180 but the TensorRT engine is built for --image-width 64 --image-height 48/);
});

t.test('without the provider (as here) the TensorRT options are named as ignored', async (t) => {
  const empty = join(tmp, 'no-libs');
  mkdirSync(empty);
  const s = settings({ fp16: true, engineCacheDir: '/x', fixedInputShape: { height: 4, width: 4 } });
  t.same(setUpProviders(manifest, 4, s, empty), {});
  t.match(s.log.lines, [/^warning: --engine-cache, --fp16, --image-height\/--image-width ignored: the TensorRT execution provider is not available here/]);
  const cuda = settings({ device: { device: 'cuda', gpu: 1 }, fp16: true });
  setUpProviders(manifest, 4, cuda, empty);
  t.match(cuda.log.lines, [/--fp16 apply to --device tensorrt only; ignored with --device cuda/]);
  t.throws(() => setUpProviders(manifest, 4, settings({ device: { device: 'cuda', gpu: -1 } }), empty), /--gpu -1: a GPU index is a whole number from 0/);
});

t.test('withEnv sets variables around the work and restores them', async (t) => {
  process.env.ORT_TENSORRT_FP16_ENABLE = 'before';
  const seen = await withEnv({ ORT_TENSORRT_FP16_ENABLE: '1', ORT_TENSORRT_CACHE_PATH: '/x' }, async () => [process.env.ORT_TENSORRT_FP16_ENABLE, process.env.ORT_TENSORRT_CACHE_PATH]);
  t.same(seen, ['1', '/x']);
  t.equal(process.env.ORT_TENSORRT_FP16_ENABLE, 'before');
  t.notOk('ORT_TENSORRT_CACHE_PATH' in process.env);
  delete process.env.ORT_TENSORRT_FP16_ENABLE;
});

t.test('CLI: --device tensorrt with its options and --device cuda --gpu N run on the CPU after warnings', async (t) => {
  const onnx = writeHistoryModel(join(tmp, 'models'), 2); // an ONNX model: bicubic runs in swscale, no provider at all
  const trt = runCli(['-i', clips.small(), '-o', join(tmp, 'trt.mkv'), '--model', onnx, '--scale', '2', '-q', '--device', 'tensorrt', '--fp16', '--engine-cache', join(tmp, 'engines'), '--image_height', '96', '--image_width', '128']);
  t.equal(trt.code, 0, trt.stderr);
  t.match(trt.stderr, /tensorrt execution provider is not installed/);
  t.match(trt.stderr, /cuda execution provider is not installed .*falling back to cpu/);
  t.match(trt.stderr, /--engine-cache, --fp16, --image-height\/--image-width ignored: the TensorRT execution provider is not available here/);
  const cuda = runCli(['-i', clips.small(), '-o', join(tmp, 'cuda.mkv'), '--model', onnx, '--scale', '2', '-q', '--device', 'cuda', '--gpu', '1']);
  t.equal(cuda.code, 0, cuda.stderr);
  t.match(cuda.stderr, /cuda execution provider is not installed .*falling back to cpu/);
  const swscale = runCli(['-i', clips.small(), '-o', join(tmp, 'swscale.mkv'), '--model', 'bicubic', '--scale', '2', '-q', '--device', 'cuda']);
  t.equal(swscale.code, 0, swscale.stderr);
  t.match(swscale.stderr, /model bicubic runs in swscale on the CPU: --device cuda applies to ONNX models only/);
  const half = runCli(['-i', clips.small(), '-o', join(tmp, 'half.mkv'), '--model', 'bicubic', '--device', 'tensorrt', '--image-height', '48']);
  t.equal(half.code, 2);
  t.match(half.stderr, /--image-height and --image-width go together/);
});
