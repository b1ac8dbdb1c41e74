/**
 * Plain TypeScript definitions of the two pixel operations the exported graphs perform, written
 * from the spec (§1.5) so tests can check the graphs (and the exporter's output) against them.
 * They are references, not the runtime path: at 720p the graphs do this work.
 */
import { keysKernel } from '../../models/bicubic.js';

/**
 * The reference `flow_warp` (bilinear, zeros padding) of planar `channels × height × width` data:
 * the grid is normalised with (W−1) but sampled with align_corners=False, so the source position
 * of output pixel (x, y) is sx = (x+Δx)·W/(W−1) − 0.5, sy = (y+Δy)·H/(H−1) − 0.5, and neighbours
 * outside the image contribute 0. Zero flow is therefore a slight magnification with half-dark
 * borders; the model was trained on exactly that.
 */
export function flowWarp(image: Float32Array, flow: Float32Array, channels: number, height: number, width: number): Float32Array {
  const plane = height * width;
  if (image.length !== channels * plane) throw new RangeError(`image holds ${image.length} values, ${channels}x${height}x${width} needs ${channels * plane}`);
  if (flow.length !== 2 * plane) throw new RangeError(`flow holds ${flow.length} values, 2x${height}x${width} needs ${2 * plane}`);
  const out = new Float32Array(image.length);
  const sxScale = width / Math.max(width - 1, 1);
  const syScale = height / Math.max(height - 1, 1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const sx = (x + flow[p]!) * sxScale - 0.5;
      const sy = (y + flow[plane + p]!) * syScale - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < channels; c++) {
        const base = c * plane;
        const at = (yy: number, xx: number): number => (xx < 0 || yy < 0 || xx >= width || yy >= height ? 0 : image[base + yy * width + xx]!);
        const top = at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx;
        const bottom = at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx;
        out[base + p] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}

/**
 * torch's `interpolate(scale_factor=s, mode='bicubic', align_corners=False)`: Keys cubic a = −0.75,
 * half-pixel source coordinates, edge-replicated taps, no antialias and no clamp.
 */
export function bicubicUpscale(image: Float32Array, channels: number, height: number, width: number, scale = 4, a = -0.75): Float32Array {
  const outH = height * scale;
  const outW = width * scale;
  const out = new Float32Array(channels * outH * outW);
  const taps = (dst: number, size: number): Array<[number, number]> => {
    const src = (dst + 0.5) / scale - 0.5;
    const f = Math.floor(src);
    const list: Array<[number, number]> = [];
    for (let m = -1; m <= 2; m++) list.push([Math.min(Math.max(f + m, 0), size - 1), keysKernel(src - (f + m), a)]);
    return list;
  };
  const rows = Array.from({ length: outH }, (_, y) => taps(y, height));
  const cols = Array.from({ length: outW }, (_, x) => taps(x, width));
  for (let c = 0; c < channels; c++) {
    const inBase = c * height * width;
    const outBase = c * outH * outW;
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        let sum = 0;
        for (const [sy, wy] of rows[y]!) for (const [sx, wx] of cols[x]!) sum += wy * wx * image[inBase + sy * width + sx]!;
        out[outBase + y * outW + x] = sum;
      }
    }
  }
  return out;
}
