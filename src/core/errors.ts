/** Stage names used in error messages and statistics. */
export type StageName = 'source' | 'decode' | 'convert' | 'model' | 'encode' | 'sink' | 'pipeline' | string;

/** A problem with what the user asked for: bad input, unknown model, refused overwrite. Exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode = 2;
}

/**
 * An output file that cannot be written: its folder cannot be made, or the file cannot be opened
 * (no such folder, no permission, a read-only file system). A user error that running the pipeline
 * again cannot fix, so a service reports it once and does not restart the pipeline.
 */
export class UnwritableOutputError extends UsageError {}

/** A run-time failure inside one stage of the pipeline. Exit code 1. */
export class PipelineError extends Error {
  override readonly name: string = 'PipelineError';
  readonly exitCode: number = 1;
  constructor(
    readonly stage: StageName,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class SourceError extends PipelineError {
  override readonly name = 'SourceError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('source', message, options);
  }
}

export class SinkError extends PipelineError {
  override readonly name = 'SinkError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('sink', message, options);
  }
}

export class InferenceError extends PipelineError {
  override readonly name = 'InferenceError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('model', message, options);
  }
}

/** The downstream reader of our output pipe went away: end quietly, as `head` would let us. */
export class BrokenPipeError extends PipelineError {
  override readonly name = 'BrokenPipeError';
  override readonly exitCode = 0;
  constructor(options?: { cause?: unknown }) {
    super('sink', 'output pipe closed by the reader', options);
  }
}

/**
 * The user stopped the run (Ctrl-C, SIGTERM) before there was any output to finish, e.g. while a
 * live input was still connecting. Not a failure: the CLI says so in one line and exits 130/143.
 */
export class StoppedBeforeStartError extends PipelineError {
  override readonly name = 'StoppedBeforeStartError';
  constructor(
    readonly what: string,
    override readonly exitCode = 130,
  ) {
    super('source', `${what}: stopped before the stream could be opened; nothing was written`);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Adds a stage name to an error that does not carry one yet; PipelineErrors pass unchanged. */
export function inStage(stage: StageName, err: unknown): PipelineError | UsageError {
  if (err instanceof PipelineError || err instanceof UsageError) return err;
  return new PipelineError(stage, `${stage}: ${errorMessage(err)}`, { cause: err });
}
