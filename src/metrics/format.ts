/** A score with `digits` decimals; identical frames have infinite PSNR, printed as ffmpeg does: `inf`. */
export const fixedOrInf = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : 'inf');

/** JSON.stringify replacer: JSON has no Infinity, so infinite PSNR (identical frames) is written as null. */
export const finiteOrNull = (_key: string, value: unknown): unknown => (typeof value === 'number' && !Number.isFinite(value) ? null : value);
