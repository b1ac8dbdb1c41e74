/** Per-stage wall time and counters of one run, for the progress line, the summary and benchmarks. */
export class RunStats {
  private readonly ms = new Map<string, number>();
  private readonly counts = new Map<string, number>();
  readonly startedAt = performance.now();
  /** Why the live input is down while it is being reconnected; null while it delivers. */
  inputDown: string | null = null;

  async time<T>(stage: string, work: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      this.addTime(stage, performance.now() - t0);
    }
  }

  addTime(stage: string, ms: number): void {
    this.ms.set(stage, (this.ms.get(stage) ?? 0) + ms);
  }

  count(name: string, n = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + n);
  }

  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  stageMs(stage: string): number {
    return this.ms.get(stage) ?? 0;
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  toJSON(): { stageMs: Record<string, number>; counts: Record<string, number>; elapsedMs: number } {
    return { stageMs: Object.fromEntries(this.ms), counts: Object.fromEntries(this.counts), elapsedMs: this.elapsedMs() };
  }
}
