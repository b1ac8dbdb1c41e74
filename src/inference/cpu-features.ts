import { readFileSync } from 'node:fs';

/**
 * CPU instructions that decide which weights run fastest on the CPU. `int8DotProduct`: an 8-bit
 * multiply-accumulate into 32 bits (x86 AVX-512 VNNI or AVX-VNNI, Arm's dot product), which ONNX
 * Runtime's integer convolutions use; without it an int8 graph loses most of its lead over fp32.
 */
export interface CpuFeatures {
  readonly int8DotProduct: boolean;
  /** The flag that said so (`avx512_vnni`, `avx_vnni`, `asimddp`), for the log; absent when none did. */
  readonly int8DotProductFlag?: string;
}

const INT8_DOT_FLAGS = ['avx512_vnni', 'avx_vnni', 'asimddp'];

/** The features a Linux `/proc/cpuinfo` lists (x86 `flags`, Arm `Features`; the first processor's). */
export function cpuFeaturesFrom(cpuinfo: string): CpuFeatures {
  const line = /^(?:flags|Features)\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? '';
  const flags = new Set(line.trim().split(/\s+/));
  const flag = INT8_DOT_FLAGS.find((f) => flags.has(f));
  return flag ? { int8DotProduct: true, int8DotProductFlag: flag } : { int8DotProduct: false };
}

let detected: CpuFeatures | undefined;

/** This machine's features, read once. Apple's Arm CPUs all have the dot product; elsewhere without /proc: none. */
export function cpuFeatures(): CpuFeatures {
  if (detected) return detected;
  if (process.platform === 'darwin' && process.arch === 'arm64') detected = { int8DotProduct: true, int8DotProductFlag: 'apple-arm64' };
  else {
    try {
      detected = cpuFeaturesFrom(readFileSync('/proc/cpuinfo', 'utf8'));
    } catch {
      detected = { int8DotProduct: false };
    }
  }
  return detected;
}
