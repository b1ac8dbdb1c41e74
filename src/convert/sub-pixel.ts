/**
 * Nearest-neighbour upsampling by s followed by a stride-1 convolution equals one convolution on the
 * small image that computes all s*s output phases as channels, then DepthToSpace (CRD). The sums
 * are the same, but the s*s-times larger upsampled tensor is never made: for esrgan-slim x4 that
 * is 48 channels at 1280x720, 177 MB per frame.
 */

interface Taps {
  /** For output phase p and kernel tap t: the small-image kernel index the tap lands on. */
  readonly index: number[][];
  readonly size: number;
  readonly padBefore: number;
  readonly padAfter: number;
}

/** Along one axis: high-res tap t of phase p reads small-image row floor((p + t*dilation - pad) / s). */
function phaseTaps(s: number, kernel: number, dilation: number, pad: number): Taps {
  const lo = Math.floor(-pad / s);
  const hi = Math.floor((s - 1 + (kernel - 1) * dilation - pad) / s);
  const index = Array.from({ length: s }, (_, p) => Array.from({ length: kernel }, (_, t) => Math.floor((p + t * dilation - pad) / s) - lo));
  return { index, size: hi - lo + 1, padBefore: -lo, padAfter: hi };
}

export interface SubPixelConv {
  /** [cout*s*s, cin, kh', kw'] (OIHW), output channel o*s*s + py*s + px. */
  readonly weights: Float32Array;
  readonly dims: [number, number, number, number];
  readonly pads: [number, number, number, number];
  readonly bias?: Float32Array;
}

/** `weights` OIHW [cout, cin, kh, kw]; `pads` are the high-res convolution's top and left padding. */
export function subPixelConv(weights: Float32Array, dims: readonly [number, number, number, number], s: number, dilation: readonly [number, number], pads: readonly [number, number], bias?: Float32Array): SubPixelConv {
  const [cout, cin, kh, kw] = dims;
  const ty = phaseTaps(s, kh, dilation[0], pads[0]);
  const tx = phaseTaps(s, kw, dilation[1], pads[1]);
  const out = new Float32Array(cout * s * s * cin * ty.size * tx.size);
  for (let o = 0; o < cout; o++) {
    for (let py = 0; py < s; py++) {
      for (let px = 0; px < s; px++) {
        const oc = (o * s + py) * s + px;
        for (let c = 0; c < cin; c++) {
          for (let y = 0; y < kh; y++) {
            for (let x = 0; x < kw; x++) {
              const at = ((oc * cin + c) * ty.size + ty.index[py]![y]!) * tx.size + tx.index[px]![x]!;
              out[at] = out[at]! + weights[((o * cin + c) * kh + y) * kw + x]!;
            }
          }
        }
      }
    }
  }
  const phasesBias = bias ? Float32Array.from({ length: cout * s * s }, (_, i) => bias[Math.floor(i / (s * s))]!) : undefined;
  return { weights: out, dims: [cout * s * s, cin, ty.size, tx.size], pads: [ty.padBefore, tx.padBefore, ty.padAfter, tx.padAfter], ...(phasesBias ? { bias: phasesBias } : {}) };
}
