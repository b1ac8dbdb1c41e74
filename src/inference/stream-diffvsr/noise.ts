/**
 * The initial latent noise z_T of every frame, reproducible from a seed on any machine.
 *
 * Generator: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011),
 * a counter-based generator: block = philox(counter, key) gives 4 uint32 words.
 *   key     = (seed mod 2^32, floor(seed / 2^32) mod 2^32)
 *   counter = (block index within the frame, frame draw index, 0, 0)
 * Normals: Box–Muller on word pairs, u1 = (w0 + 1)·2^-32 ∈ (0, 1], u2 = w1·2^-32 ∈ [0, 1),
 *   n0 = √(−2 ln u1)·cos(2π u2), n1 = √(−2 ln u1)·sin(2π u2), same for (w2, w3) → n2, n3;
 * element i of a frame's (1, 4, h, w) tensor (row-major) is normal (i mod 4) of block ⌊i/4⌋,
 * computed in double precision and rounded once to float32.
 * Frame draw index n is the n-th frame the runtime has denoised in this stream (0, 1, 2, …).
 * V8 evaluates Math.log/cos/sin with its own bundled fdlibm port rather than the platform's libm,
 * so the same seed gives the same bits on every OS and CPU that runs Node.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const TWO_POW_32 = 4294967296;

/** High 32 bits of the 64-bit product of two uint32 (the low half is Math.imul). */
function mulhi(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const lolo = aLo * bLo;
  const mid1 = aHi * bLo;
  const mid2 = aLo * bHi;
  const carry = ((lolo >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (aHi * bHi + (mid1 >>> 16) + (mid2 >>> 16) + carry) >>> 0;
}

/** One Philox4x32-10 block: 4 uint32 words written into `out`. */
export function philox4x32(counter: readonly number[], key: readonly number[], out: Uint32Array = new Uint32Array(4)): Uint32Array {
  return philoxBlock(counter[0]!, counter[1]!, counter[2]!, counter[3]!, key[0]!, key[1]!, out);
}

function philoxBlock(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array): Uint32Array {
  c0 >>>= 0;
  c1 >>>= 0;
  c2 >>>= 0;
  c3 >>>= 0;
  k0 >>>= 0;
  k1 >>>= 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

export function seedKey(seed: number): [number, number] {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a whole number from 0 to 2^53-1, got ${seed}`);
  return [seed % TWO_POW_32 >>> 0, Math.floor(seed / TWO_POW_32) >>> 0];
}

/** Fills `out` with standard normals for frame draw `drawIndex` of the stream seeded `seed`. */
export function gaussianNoise(seed: number, drawIndex: number, out: Float32Array): Float32Array {
  const [k0, k1] = seedKey(seed);
  const words = new Uint32Array(4);
  const normals = new Float64Array(4);
  const tau = 2 * Math.PI;
  for (let i = 0, block = 0; i < out.length; i += 4, block++) {
    philoxBlock(block, drawIndex, 0, 0, k0, k1, words);
    for (let pair = 0; pair < 2; pair++) {
      const r = Math.sqrt(-2 * Math.log((words[2 * pair]! + 1) / TWO_POW_32));
      const angle = tau * (words[2 * pair + 1]! / TWO_POW_32);
      normals[2 * pair] = r * Math.cos(angle);
      normals[2 * pair + 1] = r * Math.sin(angle);
    }
    if (i + 4 <= out.length) out.set(normals, i);
    else for (let j = 0; i + j < out.length; j++) out[i + j] = normals[j]!;
  }
  return out;
}

/** Where a frame's z_T comes from: the seeded generator, or injected tensors (parity tests). */
export interface NoiseSource {
  /** Fills `out` (length 4·h·w) with the noise of the `drawIndex`-th denoised frame. */
  fill(drawIndex: number, out: Float32Array): void;
  /** The same draw, possibly prepared ahead of time (PrefetchedNoise); fill is used where absent. */
  fillAhead?(drawIndex: number, out: Float32Array): Promise<void>;
  /** Ends any background work. */
  close?(): void;
}

export function seededNoise(seed: number): NoiseSource {
  seedKey(seed);
  return { fill: (drawIndex, out) => void gaussianNoise(seed, drawIndex, out) };
}

/** Noise given frame by frame (e.g. the reference pipeline's torch draws); runs out loudly. */
export function injectedNoise(frames: readonly Float32Array[]): NoiseSource {
  return {
    fill(drawIndex, out) {
      const src = frames[drawIndex];
      if (!src) throw new RangeError(`injected noise has ${frames.length} frames; frame draw ${drawIndex} has none`);
      if (src.length !== out.length) throw new RangeError(`injected noise for frame draw ${drawIndex} holds ${src.length} values, the latents need ${out.length}`);
      out.set(src);
    },
  };
}
