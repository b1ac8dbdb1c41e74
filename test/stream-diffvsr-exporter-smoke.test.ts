import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers/media.js';
import { lrFrame, recorder, upscaleInOrder } from './helpers/diffvsr.js';
import { memoryLogger } from '../src/core/log.js';
import { ort } from '../src/inference/ort.js';
import { OnnxSession } from '../src/inference/session.js';
import { loadModel } from '../src/models/load.js';

// export.py's per-frame graphs, exported by its own export_frame_graphs() from tiny stand-in modules
// (test/parity/frame_graph_smoke.py), run in ONNX Runtime against the modules' own outputs and
// through the stream-sr runtime. Needs a Python 3 with torch and onnx (Debian: python3-torch,
// python3-onnx); skipped without.
const python = process.env.STREAM_DIFFVSR_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(python, ['-c', 'import torch, onnx'], { encoding: 'utf8' });

if (probe.status !== 0) {
  t.comment(`exporter smoke test skipped: ${python} has no torch and onnx (${(probe.stderr || String(probe.error)).trim().split('\n').pop()})`);
  t.pass('skipped: no PyTorch here');
} else {
  t.test('export.py per-frame graphs: traced, equal to the modules in ONNX Runtime, and to the separate graphs through the runtime', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'stream-sr-frame-export-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const r = spawnSync('nice', ['-n', '10', python, join(ROOT, 'test', 'parity', 'frame_graph_smoke.py'), join(ROOT, 'models', 'stream-diffvsr'), dir], { encoding: 'utf8' });
    t.equal(r.status, 0, r.status ? r.stderr.slice(-2000) : 'the smoke export ran');
    const f32 = (name: string) => {
      const b = readFileSync(join(dir, name));
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    };
    const dims: Record<string, number[]> = { lr: [1, 3, 32, 40], prev_lr: [1, 3, 32, 40], prev_hr: [1, 3, 128, 160], noise: [1, 4, 32, 40], timesteps: [4], step_coefficients: [4, 4] };
    const settings = { device: { device: 'cpu' as const }, threads: 1, log: memoryLogger() };
    for (const kind of ['first', 'history']) {
      const session = await OnnxSession.create(kind, join(dir, `frame_${kind}-4steps.onnx`), settings);
      const T = ort().Tensor;
      const feeds = Object.fromEntries([...session.inputs.keys()].map((n) => [n, new T('float32', f32(`${kind}_${n}.f32`), dims[n]!)]));
      const out = await session.run(feeds, 'smoke');
      const hr = f32(`${kind}_hr.f32`);
      const frame = readFileSync(join(dir, `${kind}_frame.u8`));
      let dHr = 0;
      let dLevel = 0;
      for (let i = 0; i < hr.length; i++) {
        dHr = Math.max(dHr, Math.abs((out.hr!.data as Float32Array)[i]! - hr[i]!));
        dLevel = Math.max(dLevel, Math.abs((out.frame!.data as Uint8Array)[i]! - frame[i]!));
      }
      t.ok(dHr <= 1e-5, `frame_${kind}: ONNX Runtime's hr within 1e-5 of the module's (${dHr.toExponential(2)})`);
      t.ok(dLevel <= 1, `frame_${kind}: 8-bit frame within one level (rounding ties) of the module's (${dLevel})`);
      await session.release();
    }
    // the manifest the script wrote holds the separate graphs (export_all) and the per-frame ones:
    // the runtime's two paths on them, over a first frame, history frames, a scene cut and after it
    const frames = [0, 1, 2, 3, 4].map((i) => lrFrame(i, 40, 32, { shot: i >= 3 ? 1 : 0 }));
    const run = async (frameGraph: boolean) => {
      const rec = recorder(1 << 22);
      const model = await loadModel(dir, { scale: 4, session: settings, diffusion: { frameGraph, onRun: rec.onRun } });
      await model.configure(frames[0]!.info);
      const outputs = await upscaleInOrder(model, frames);
      await model.dispose();
      return { rec, outputs };
    };
    const one = await run(true);
    const separate = await run(false);
    t.same(one.rec.runs.map((x) => x.graph), ['frame_first', 'frame_history', 'frame_history', 'frame_first', 'frame_history'], 'the runtime runs the exported per-frame graphs, one per frame, by kind');
    const decoded = separate.rec.runs.filter((x) => x.graph === 'tae_decode' || x.graph === 'tae_decode_temporal');
    for (let f = 0; f < frames.length; f++) {
      let dHr = 0;
      let dLevel = 0;
      const a = one.rec.runs[f]!.outputs.hr!;
      const b = decoded[f]!.outputs.image!;
      for (let i = 0; i < a.length; i++) dHr = Math.max(dHr, Math.abs(a[i]! - b[i]!));
      for (let i = 0; i < one.outputs[f]!.length; i++) dLevel = Math.max(dLevel, Math.round(Math.abs(one.outputs[f]![i]! - separate.outputs[f]![i]!) * 255));
      t.ok(dHr <= 1e-5, `frame ${f}: export.py's per-frame graph gives the separate graphs' HR within 1e-5 (${dHr.toExponential(2)})`);
      t.ok(dLevel <= 1, `frame ${f}: and the same 8-bit frame within one level at rounding ties (${dLevel})`);
    }
  });
}
