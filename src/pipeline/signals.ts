/**
 * Ctrl-C handling like ffmpeg's: the first SIGINT or SIGTERM stops reading input and lets the
 * frames in flight finish, so the output is complete and playable; a second one drops the frames
 * in flight and finalizes at once.
 */
export class StopSignals {
  private readonly soft = new AbortController();
  private readonly hard = new AbortController();
  private received: NodeJS.Signals | undefined;
  private readonly handler = (sig: NodeJS.Signals): void => {
    if (!this.received) {
      this.received = sig;
      this.onFirst?.(sig);
      this.soft.abort(new Error(`received ${sig}`));
    } else {
      this.hard.abort(new Error(`received ${sig} again`));
    }
  };

  constructor(private readonly onFirst?: (sig: NodeJS.Signals) => void) {
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
  }

  get signal(): AbortSignal {
    return this.soft.signal;
  }

  get hardSignal(): AbortSignal {
    return this.hard.signal;
  }

  /** The signal that stopped the run, if any. */
  get stoppedBy(): NodeJS.Signals | undefined {
    return this.received;
  }

  /** Exit status for a run stopped by a signal: 128 + its number (130 for SIGINT, 143 for SIGTERM). */
  exitCode(): number | undefined {
    if (this.received === 'SIGINT') return 130;
    if (this.received === 'SIGTERM') return 143;
    return undefined;
  }

  dispose(): void {
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
  }
}
