import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ort, type Ort } from '../src/inference/ort.js';
import { ROOT } from './helpers/media.js';

/**
 * causal-sr graphs are exported with their history warp as one whole-HR-pixel shift per LR pixel, a
 * Gather of computed indices (models/train/net.py warp_hr_block), while the network was trained with
 * torch's GridSample (nearest, border) over a per-HR-pixel flow (warp_hr). Where the flow is one
 * translation the two are the same warp, so the exported graph, run by onnxruntime-node, must give
 * torch GridSample's pixels exactly: edges (the clamp), sub-pixel flows (the rounding), both scales,
 * at a size other than the one traced. A varying flow may differ within a block; its share is shown.
 */
const PYTHON = '/usr/bin/python3';

interface Case {
  name: string;
  graph: string;
  exact: boolean;
  base: string;
  imageDims: number[];
  flowDims: number[];
}

function hasTorch(): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0;
}

const f32 = (path: string): Float32Array => {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
};

t.test('exported block warp gives torch GridSample pixels for translations', async (t) => {
  if (!hasTorch()) return t.skip(`${PYTHON} has no torch/onnx (apt-get install python3-torch python3-onnx)`);
  const work = mkdtempSync(join(tmpdir(), 'stream-sr-warp-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  execFileSync(PYTHON, [join(ROOT, 'test', 'helpers', 'block_warp_cases.py'), work], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: '1' } });
  const cases = JSON.parse(readFileSync(join(work, 'cases.json'), 'utf8')) as Case[];
  t.equal(cases.filter((c) => c.exact).length, 18, 'nine translations at each scale');
  const { InferenceSession, Tensor } = ort();
  const sessions = new Map<string, Ort.InferenceSession>();
  for (const c of cases) {
    let session = sessions.get(c.graph);
    if (!session) sessions.set(c.graph, (session = await InferenceSession.create(c.graph)));
    const image = new Tensor('float32', f32(`${c.base}-image.f32`), c.imageDims);
    const flow = new Tensor('float32', f32(`${c.base}-flow.f32`), c.flowDims);
    const out = (await session.run({ image, flow })).warped!;
    const expected = f32(`${c.base}-expected.f32`);
    const got = out.data as Float32Array;
    t.same(out.dims, c.imageDims, `${c.name}: output size`);
    let equal = 0;
    for (let i = 0; i < expected.length; i++) if (got[i] === expected[i]) equal++;
    if (c.exact) t.equal(equal, expected.length, `${c.name}: every pixel is GridSample's`);
    else t.comment(`${c.name}: ${((100 * equal) / expected.length).toFixed(1)}% of pixels the same as a per-pixel flow gives`);
  }
  for (const s of sessions.values()) await s.release();
});
