/** Where the tiles of a frame lie, and how much each one counts where neighbours overlap. */

/** A tile's extent along one axis, in input pixels. */
export interface Span {
  readonly start: number;
  readonly size: number;
}

/**
 * The grid causal-sr's motion estimator works on: half resolution (a stride-2 convolution). A tile or
 * window cut from a frame at an odd pixel sees the picture on the other half of that grid, so its
 * flow, and the history warped by it, differ over the whole of it; cut at even pixels, it matches
 * the whole frame's away from its edges.
 */
export const MOTION_GRID = 2;

/** `v` rounded down to a multiple of `align`. */
export function alignDown(v: number, align: number): number {
  return Math.floor(v / align) * align;
}

/**
 * Tiles of `tile` pixels covering `length`, each overlapping the next by at least `overlap`. They
 * are spread evenly, so every tile has the same size (one graph shape) and no tile is a sliver.
 * With `align` > 1 every tile starts at a multiple of it (a network that works on a coarser grid
 * inside, such as causal-sr's half-resolution motion estimator, then sees each tile on the same
 * grid as the whole frame); the tile is rounded down to a multiple of it, the last one, which
 * ends at the edge, may be up to `align` - 1 pixels longer, and an overlap up to `align` - 1 shorter.
 */
export function tileSpans(length: number, tile: number, overlap: number, align = 1): Span[] {
  if (length <= tile) return [{ start: 0, size: length }];
  if (overlap >= tile) throw new RangeError(`tile overlap ${overlap} must be smaller than the tile ${tile}`);
  const size = Math.max(align, alignDown(tile, align));
  if (overlap >= size) throw new RangeError(`tile overlap ${overlap} must be smaller than the tile ${size}`);
  const count = Math.ceil((length - overlap) / (size - overlap));
  const step = (length - size) / (count - 1);
  const spans: Span[] = [];
  for (let i = 0; i < count; i++) {
    // the last tile ends at the edge exactly: i * step can fall a hair short of length - size in
    // floating point (308 in tiles of 64: 7 * 34.857... = 243.99999...), which left a column uncovered
    const at = i === count - 1 ? length - size : Math.floor(i * step);
    const start = alignDown(at, align);
    spans.push({ start, size: i === count - 1 ? length - start : size });
  }
  return spans;
}

/**
 * Weight of `spans[index]` at each of its output pixels along one axis (input spans scaled by
 * `scale`). Inside an overlap, the third nearest each tile's cut edge is left to the other tile
 * (a model sees padding there, not the picture, and deep models are thrown off for 20 pixels or
 * more), and the middle third cross-fades linearly, so the two weights always add up to 1 and no
 * seam shows. Away from overlaps, and at the frame's own borders, the weight is 1.
 */
export function featherWeights(spans: readonly Span[], index: number, scale: number): Float32Array {
  const span = spans[index]!;
  const size = span.size * scale;
  const weights = new Float32Array(size).fill(1);
  const before = spans[index - 1];
  const after = spans[index + 1];
  if (before) {
    const overlap = (before.start + before.size - span.start) * scale;
    for (let k = 0; k < size; k++) weights[k] = Math.min(weights[k]!, ramp(k, overlap));
  }
  if (after) {
    const overlap = (span.start + span.size - after.start) * scale;
    for (let k = 0; k < size; k++) weights[size - 1 - k] = Math.min(weights[size - 1 - k]!, ramp(k, overlap));
  }
  return weights;
}

/** Weight at distance `k` from a cut edge, for an overlap of `overlap` output pixels. */
function ramp(k: number, overlap: number): number {
  if (overlap <= 0) return 1;
  const margin = Math.floor(overlap / 3);
  const length = overlap - 2 * margin;
  if (k < margin) return 0;
  if (k >= margin + length) return 1;
  return (k - margin + 0.5) / length;
}

/** One tile of a frame: its input rectangle and its output weights along each axis. */
export interface Tile {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly weightX: Float32Array;
  readonly weightY: Float32Array;
}

/** Every tile of a `width` x `height` frame, row by row (`align`: see tileSpans). */
export function tileGrid(width: number, height: number, tile: number, overlap: number, scale: number, align = 1): Tile[] {
  const xs = tileSpans(width, tile, overlap, align);
  const ys = tileSpans(height, tile, overlap, align);
  const weightX = xs.map((_, i) => featherWeights(xs, i, scale));
  const weightY = ys.map((_, i) => featherWeights(ys, i, scale));
  const tiles: Tile[] = [];
  ys.forEach((sy, j) => {
    xs.forEach((sx, i) => {
      tiles.push({ x: sx.start, y: sy.start, width: sx.size, height: sy.size, weightX: weightX[i]!, weightY: weightY[j]! });
    });
  });
  return tiles;
}
