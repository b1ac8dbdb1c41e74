import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadPipelineFile, parsePipelineText, pipelineFromData } from '../src/pipeline/pipeline-file.js';
import { PIPELINE_SCHEMA } from '../src/pipeline/pipeline-schema.js';
import { UsageError } from '../src/core/errors.js';
import { DEFAULTS } from '../src/core/defaults.js';
import { ROOT, clips, probeVideoFrames } from './helpers/media.js';
import { runCliAsync } from './helpers/live-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-pipeline-file-'));
const GOOD = { source: { url: 'rtsp://127.0.0.1:8554/cam' }, sinks: [{ url: 'out/x.m3u8' }] };

function problem(data: unknown): string {
  try {
    pipelineFromData(data, 'x.yaml');
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  return 'no error';
}

t.test('a valid file gets every default filled in', async (t) => {
  const spec = pipelineFromData(GOOD, 'pipelines/cam-1.yaml');
  t.equal(spec.id, 'cam-1', 'the id defaults to the file name');
  t.match(spec, { live: { policy: 'drop', rtspTransport: 'tcp', reconnect: { enabled: true } }, model: { id: DEFAULTS.model, scale: 4 }, maxInFlight: 2 });
  t.equal(spec.outputs[0]!.output, 'out/x.m3u8');
});

t.test('each kind of mistake gets a message naming the field', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['missing required field', { sinks: GOOD.sinks }, /x\.yaml: source: is required/],
    ['missing nested required field', { source: {}, sinks: GOOD.sinks }, /source\.url: is required/],
    ['wrong type', { ...GOOD, model: { id: 'bicubic', scale: 'four' } }, /model\.scale: must be a whole number, not a string/],
    ['value not allowed', { ...GOOD, policy: { mode: 'dorp' } }, /policy\.mode: must be one of drop, fallback, queue, not "dorp"/],
    ['out of range', { ...GOOD, policy: { maxQueue: 0 } }, /policy\.maxQueue: must be at least 1, not 0/],
    ['misspelt field', { ...GOOD, sinks: [{ url: 'a.mkv', segmentSecond: 10 }] }, /sinks\[0\]\.segmentSecond: is not a known field \(did you mean 'segmentSeconds'\?\)/],
    ['unknown top-level field', { ...GOOD, shell: 'rm -rf /' }, /shell: is not a known field/],
    ['empty list', { ...GOOD, sinks: [] }, /sinks: needs at least 1 entry/],
    ['not a list', { ...GOOD, sinks: { url: 'a.mkv' } }, /sinks: must be a list, not a mapping/],
    ['a URL that is not media', { ...GOOD, source: { url: 'pipe:0' } }, /source\.url: must be a path or a rtsp:\/\//],
    ['another one', { ...GOOD, sinks: [{ url: 'concat:a.ts|b.ts' }] }, /sinks\[0\]\.url: must be a path/],
    ['bad option value type', { ...GOOD, source: { url: 'rtsp://h/c', options: { buffer_size: 1 } } }, /source\.options\.buffer_size: must be a string, not a whole number/],
    ['bad id', { ...GOOD, id: 'my cam' }, /id: must be letters, digits/],
    ['nested wrong type', { ...GOOD, source: { url: 'rtsp://h/c', reconnect: { enabled: 'yes' } } }, /source\.reconnect\.enabled: must be true or false/],
    ['not a mapping at all', ['a'], /x\.yaml: must be a mapping, not a list/],
    // formats and demuxer options get the same allow-list as URLs
    ['a filter graph as the input format', { ...GOOD, source: { url: 'graph.txt', format: 'lavfi' } }, /source\.format: must be one of .*mpegts.*, not "lavfi"/],
    ['concat, which reads other files', { ...GOOD, source: { url: 'list.txt', format: 'concat' } }, /source\.format: must be one of .*, not "concat"/],
    ["concat's safe: 0", { ...GOOD, source: { url: 'rtsp://h/c', options: { safe: '0' } } }, /source\.options\.safe: is not a known field/],
    ['a protocol whitelist', { ...GOOD, source: { url: 'rtsp://h/c', options: { protocol_whitelist: 'file,pipe' } } }, /source\.options\.protocol_whitelist: is not a known field/],
    ['subfile, ended by a comma', { ...GOOD, source: { url: 'subfile,,start,0,end,100,,:/etc/passwd' } }, /source\.url: must be a path/],
    ['subfile as a sink', { ...GOOD, sinks: [{ url: 'subfile,,start,0,end,9,,:x.ts' }] }, /sinks\[0\]\.url: must be a path/],
  ];
  for (const [what, data, expected] of cases) t.match(problem(data), expected, what);
  t.equal(problem({ ...GOOD, source: { url: 'cam.ts', format: 'mpegts', options: { probesize: '32768', rtsp_transport: 'tcp' } } }), 'no error', 'a media format and ordinary options pass');
  t.match(problem({ sinks: [{ url: 1 }] }), /source: is required; sinks\[0\]\.url: must be a string/, 'several mistakes are all reported');
});

t.test('YAML and JSON syntax errors name the file and the line', async (t) => {
  t.throws(() => parsePipelineText('source:\n  url: [unclosed\n', 'bad.yaml'), /bad\.yaml: not valid YAML: .*line/i);
  t.throws(() => parsePipelineText('{"source": }', 'bad.json'), /bad\.json: not valid JSON/);
});

t.test('the shipped examples are valid and pipeline.schema.json is the schema in the code', async (t) => {
  for (const f of ['camera-to-hls.yaml', 'srt-broadcast.yaml', 'batch-file.yaml']) {
    const spec = await loadPipelineFile(join(ROOT, 'pipelines', f));
    t.ok(spec.outputs.length >= 1, `${f} loads (${spec.id})`);
  }
  t.same(JSON.parse(readFileSync(join(ROOT, 'pipelines', 'pipeline.schema.json'), 'utf8')), JSON.parse(JSON.stringify(PIPELINE_SCHEMA)), 'up to date (make pipeline-schema writes it)');
});

t.test('stream-sr run: a bad file exits 2 naming the field; a batch job runs to completion', async (t) => {
  writeFileSync(join(tmp, 'bad.yaml'), 'source: { url: clip.mkv }\nsinks: [ { url: out.mkv } ]\npolicy: { mode: fast }\n');
  const bad = await runCliAsync(['run', join(tmp, 'bad.yaml')]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /bad\.yaml: policy\.mode: must be one of drop, fallback, queue, not "fast"/);
  const out = join(tmp, 'batch.mkv');
  writeFileSync(join(tmp, 'batch.yaml'), `id: batch\nsource: { url: '${clips.small()}' }\nmodel: { id: bicubic, scale: 2 }\nsinks: [ { url: '${out}' } ]\n`);
  const ok = await runCliAsync(['run', join(tmp, 'batch.yaml')]);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stderr, /batch: completed; 10 frames written/);
  t.equal(probeVideoFrames(out).length, 10);
  // a rerun may not replace the finished output unless the file says so (the CLI's -y rule)
  const before = readFileSync(out);
  const again = await runCliAsync(['run', join(tmp, 'batch.yaml')]);
  t.equal(again.code, 2, 'a rerun onto the finished output exits 2');
  t.match(again.stderr, /output '.*batch\.mkv' already exists; set overwrite: true in the pipeline file to replace it/);
  t.ok(readFileSync(out).equals(before), 'and leaves it untouched');
  writeFileSync(join(tmp, 'batch-y.yaml'), `id: batch\noverwrite: true\nsource: { url: '${clips.small()}' }\nmodel: { id: bicubic, scale: 2 }\nsinks: [ { url: '${out}' } ]\n`);
  const replaced = await runCliAsync(['run', join(tmp, 'batch-y.yaml')]);
  t.equal(replaced.code, 0, `overwrite: true replaces it: ${replaced.stderr}`);
  t.equal(probeVideoFrames(out).length, 10);
  writeFileSync(join(tmp, 'fails.yaml'), `source: { url: '${clips.small()}' }\nmodel: { id: no-such-model }\nsinks: [ { url: '${join(tmp, 'f.mkv')}' } ]\n`);
  const fails = await runCliAsync(['run', join(tmp, 'fails.yaml')]);
  t.equal(fails.code, 1, 'a failed file job exits 1 (files are not restarted by default)');
  t.match(fails.stderr, /unknown model 'no-such-model'/);
});

t.test("stream-sr run: a file output's missing folder is made; one that cannot be written is reported once, not retried", async (t) => {
  const out = join(tmp, 'new', 'deeper', 'x.mkv');
  writeFileSync(join(tmp, 'folder.yaml'), `id: folder\nsource: { url: '${clips.small()}' }\nmodel: { id: bicubic, scale: 2 }\nsinks: [ { url: '${out}' } ]\n`);
  const made = await runCliAsync(['run', join(tmp, 'folder.yaml')]);
  t.equal(made.code, 0, made.stderr);
  t.equal(probeVideoFrames(out).length, 10, 'the folder is made, as for HLS outputs, and the file written');
  // a folder that cannot be made (a file is in its place): restarts are on, but none can fix it
  const blocked = join(tmp, 'folder.yaml', 'x.mkv');
  writeFileSync(join(tmp, 'blocked.yaml'), `id: blocked\nsource: { url: '${clips.small()}' }\nmodel: { id: bicubic, scale: 2 }\nsinks: [ { url: '${blocked}' } ]\nrestart: { enabled: true, initialDelayMs: 100 }\n`);
  const fails = await runCliAsync(['run', join(tmp, 'blocked.yaml')], { timeoutMs: 30_000 });
  t.equal(fails.code, 1, fails.stderr);
  const lines = fails.stderr.split('\n').filter((l) => l.includes(`output '${blocked}'`));
  t.same(lines, [`stream-sr: error: blocked: output '${blocked}': cannot create its folder '${dirname(blocked)}': EEXIST: file already exists, mkdir '${dirname(blocked)}'; not restarted (a restart cannot fix this)`], 'reported once, clearly');
  t.match(fails.stderr, /blocked: failed; 0 frames written/);
});

t.test('a pipeline file can set every model option the command line can, with the same meaning', async (t) => {
  const { MODEL_OPTIONS, modelSpecFrom, modelValuesFromArgs } = await import('../src/pipeline/model-options.js');
  const yargs = (await import('yargs')).default;
  const { modelOptions } = await import('../src/pipeline/model-options.js');
  const flags = ['--model', 'stream-diffvsr', '--model-dir', 'exports', '--scale', '4', '--device', 'tensorrt', '--gpu', '1', '--threads', '3', '--engine-cache', 'trt', '--precision', 'int8', '--fp16',
    '--image-height', '720', '--image-width', '1280', '--tile', '96', '--tile-overlap', '12', '--max-memory', '2G', '--steps', '2', '--seed', '9', '--reset-threshold', '0.25', '--change-threshold', '2.5'];
  const args = await modelOptions(yargs(flags)).parse();
  const fromCli = modelSpecFrom(modelValuesFromArgs(args as Record<string, unknown>));
  const file = { id: 'stream-diffvsr', modelDirs: ['exports'], scale: 4, device: 'tensorrt', gpu: 1, threads: 3, engineCache: 'trt', precision: 'int8', fp16: true, imageHeight: 720, imageWidth: 1280, tile: 96, tileOverlap: 12, maxMemory: '2G', steps: 2, seed: 9, resetThreshold: 0.25, changeThreshold: 2.5 };
  t.same(Object.keys(file).sort(), Object.keys(MODEL_OPTIONS).sort(), 'the file above uses every option');
  const spec = pipelineFromData({ ...GOOD, model: file }, 'x.yaml');
  t.same(spec.model, fromCli, 'the same model spec as the command line');
  t.same(spec.model, {
    id: 'stream-diffvsr', scale: 4, device: 'tensorrt', gpu: 1, threads: 3, modelDirs: ['exports'], engineCacheDir: 'trt', precision: 'int8', fp16: true,
    fixedInputShape: { height: 180, width: 320 }, tiling: { tile: 96, overlap: 12, maxMemoryBytes: 2 * 1024 ** 3 }, changeThreshold: 2.5, diffusion: { steps: 2, seed: 9, resetThreshold: 0.25 },
  }, 'each option lands where the model loader reads it');
  t.match(problem({ ...GOOD, model: { tile: 10, tileOverlap: 8 } }), /--tile 10: must be at least twice the tile overlap/);
  t.match(problem({ ...GOOD, model: { maxMemory: 'lots' } }), /--max-memory lots: not a size/);
  t.match(problem({ ...GOOD, model: { imageHeight: 720 } }), /--image-height and --image-width go together/);
  t.match(problem({ ...GOOD, model: { seeds: 3 } }), /model.*seeds/);
  t.match(problem({ ...GOOD, model: { changeThreshold: 'some' } }), /changeThreshold.*must be 'off' or a number of 8-bit levels/);
  t.match(problem({ ...GOOD, model: { changeThreshold: -1 } }), /changeThreshold/);
  t.notOk(pipelineFromData({ ...GOOD, model: { changeThreshold: 'off' } }, 'x.yaml').model.changeThreshold, "changeThreshold: off is full compute");
  t.equal(pipelineFromData({ ...GOOD, model: { changeThreshold: '0' } }, 'x.yaml').model.changeThreshold, 0, "'0' is exact change detection");
});
