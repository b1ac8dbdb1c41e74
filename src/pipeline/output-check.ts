import { existsSync, statSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { outputKind } from '../sinks/live-outputs.js';
import type { PipelineSpec } from './spec.js';

/**
 * Why a pipeline may not start because it would replace finished files, or null. The CLI's rule
 * for services: a file output that already exists (the result of an earlier run of a batch job) is
 * refused unless the pipeline file says `overwrite: true`. HLS folders, segmented recordings and
 * network outputs continue rather than replace, so they are not checked.
 */
export function existingOutputRefusal(spec: PipelineSpec): string | null {
  if (spec.overwrite) return null;
  for (const out of spec.outputs) {
    if (outputKind(out) !== 'file' || out.output === '-' || !existsSync(out.output)) continue;
    if (statSync(out.output).isDirectory()) return `output '${out.output}': is a directory`;
    return `output '${out.output}' already exists; set overwrite: true in the pipeline file to replace it`;
  }
  return null;
}

export function refuseExistingOutputs(spec: PipelineSpec): void {
  const refusal = existingOutputRefusal(spec);
  if (refusal) throw new UsageError(refusal);
}
