import t from 'tap';
import type { Frame, PixelLayout, VideoInfo } from '../src/core/frame.js';
import { rgbOf, scaledInfo } from '../src/core/frame.js';
import { silentLogger } from '../src/core/log.js';
import { RunStats } from '../src/core/stats.js';
import type { ModelState, ModelStep, SrModel } from '../src/inference/sr-model.js';
import { TiledModel } from '../src/inference/tiled-model.js';
import { FallbackModel } from '../src/models/fallback-model.js';
import { superResolve } from '../src/operators/super-resolve.js';
import { Harness, INFO, RecordingModel, makeFrame } from './helpers/harness.js';

/**
 * One owner of temporal state: the superResolve operator keeps what a model returns and hands it
 * back; tiling keeps one state per tile; a fallback frame leaves the primary model's history as it was.
 */

/** A history model whose state is a fingerprint of the pixels it was given; it records what it got back. */
class FingerprintModel implements SrModel {
  readonly id = 'fingerprint';
  readonly scale = 2;
  readonly usesHistory = true;
  readonly layouts: readonly PixelLayout[] = ['rgb-float'];
  readonly calls: Array<{ index: number; own: number; received: number | undefined }> = [];

  async configure(input: VideoInfo): Promise<VideoInfo> {
    return scaledInfo(input, this.scale);
  }

  async upscale(frame: Frame, state: ModelState | undefined): Promise<ModelStep> {
    const rgb = rgbOf(frame);
    let own = 0;
    for (let i = 0; i < rgb.length; i++) own = (own * 31 + Math.round(rgb[i]! * 255) + i) % 1_000_003;
    this.calls.push({ index: frame.index, own, received: state as number | undefined });
    const { width, height } = frame.info;
    return { pixels: { layout: 'rgb-float', rgb: new Float32Array(3 * width * height * 4) }, state: own };
  }

  async dispose(): Promise<void> {}
}

/** 40x30 frames whose every pixel differs from its neighbours and from the previous frame's. */
function patterned(index: number): Frame {
  const info = { ...INFO, width: 40, height: 30 };
  const rgb = new Float32Array(3 * 40 * 30);
  for (let i = 0; i < rgb.length; i++) rgb[i] = ((i * 37 + index * 101) % 251) / 255;
  return { info, pts: index, duration: 1, index, layout: 'rgb-float', rgb };
}

t.test('tiling a history model: each tile gets back the state of the same tile, never a neighbour\'s', async (t) => {
  const inner = new FingerprintModel();
  const tiled = new TiledModel(inner, { tile: 16, overlap: 4, log: silentLogger });
  const output = await tiled.configure(patterned(0).info, 'rgb-float');
  const h = new Harness(superResolve(tiled, output));
  for (let i = 0; i < 3; i++) h.push(patterned(i));
  h.end();
  await h.pull(3);
  t.error(h.error);
  const tiles = inner.calls.filter((c) => c.index === 0).length;
  t.ok(tiles >= 6, `${tiles} tiles per frame`);
  const byFrame = [0, 1, 2].map((i) => inner.calls.filter((c) => c.index === i));
  t.ok(byFrame[0]!.every((c) => c.received === undefined), 'frame 0: no tile has history');
  for (const f of [1, 2]) {
    t.same(byFrame[f]!.map((c) => c.received), byFrame[f - 1]!.map((c) => c.own), `frame ${f}: tile k gets tile k's state from frame ${f - 1}`);
  }
  t.ok(new Set(byFrame[0]!.map((c) => c.own)).size === tiles, 'the tiles differ, so a mix-up would show');
});

t.test('tiling refuses a model that neither works on float RGB nor tiles its own planes, naming it', async (t) => {
  const nativeOnly = { ...new FingerprintModel(), id: 'native-only', layouts: ['native'] as const } as unknown as SrModel;
  t.throws(() => new TiledModel(nativeOnly, { tile: 16, overlap: 4, log: silentLogger }), /native-only works on neither float RGB nor planes it tiles itself, so it cannot be tiled/);
});

t.test('fallback: a fallback frame leaves the primary model\'s history as it was; its next frame continues from it across the gap', async (t) => {
  const primary = new RecordingModel(2, true);
  const fallback = new RecordingModel(2, false);
  let clock = 1000;
  const model = new FallbackModel(primary, fallback, { budgetMs: 100, stats: new RunStats(), now: () => clock });
  const output = await model.configure(INFO);
  const h = new Harness(superResolve(model, output));
  const at = (index: number, arrivedAt: number): Frame => ({ ...makeFrame(index), arrivedAt });
  h.push(at(0, clock)); // on time: primary
  await h.pull(1);
  h.push(at(1, clock - 500)); // already late: fallback
  await h.pull(2);
  h.push(at(2, clock)); // primary again
  await h.pull(3);
  h.push(at(3, clock));
  h.end();
  await h.pull(4);
  const seen = primary.windows.filter((w) => w.current >= 0);
  t.same(seen.map((w) => w.current), [0, 2, 3], 'frames 0, 2 and 3 by the primary model');
  t.same(fallback.windows.filter((w) => w.current >= 0).map((w) => w.current), [1], 'frame 1 by the fallback');
  t.same(seen.map((w) => w.previousInput), [null, 0, 2], 'frame 2 gets frame 0\'s history (frame 1 was never the primary\'s: a gap, as a dropped frame); frame 3 has frame 2\'s');
  clock += 1;
});
