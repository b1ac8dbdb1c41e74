import type { SrModel } from '../inference/sr-model.js';

/** Makes a model slower by `delayMs` per frame: the `--inject modelDelayMs=N` test hook. */
export function delayedModel(model: SrModel, delayMs: number): SrModel {
  return {
    id: model.id,
    scale: model.scale,
    usesHistory: model.usesHistory,
    layouts: model.layouts,
    ...(model.detail ? { detail: model.detail } : {}),
    ...(model.nativeInput ? { nativeInput: model.nativeInput.bind(model) } : {}),
    configure: (input, layout) => model.configure(input, layout),
    upscale: async (frame, state) => {
      await new Promise((r) => setTimeout(r, delayMs));
      return model.upscale(frame, state);
    },
    ...(model.report ? { report: model.report.bind(model) } : {}),
    dispose: () => model.dispose(),
  };
}
