/**
 * Runs sync passes one at a time. A trigger while idle starts a pass at once; triggers while a
 * pass runs are gathered into exactly one more pass after it (a pass reads everything anew, so
 * one pass covers any number of reasons). `stop` lets the running pass finish and starts none.
 */
export class WatchScheduler {
  readonly #run: (reasons: readonly string[]) => Promise<void>;
  readonly #pending = new Set<string>();
  #running: Promise<void> | undefined;
  #stopped = false;

  /** `run` must not throw: it reports its own failures (a failure ends no watch). */
  constructor(run: (reasons: readonly string[]) => Promise<void>) {
    this.#run = run;
  }

  /** Whether a pass is running now. */
  get busy(): boolean {
    return this.#running !== undefined;
  }

  /** Asks for a pass for `reason`: now when idle, else once after the running one. */
  trigger(reason: string): void {
    if (this.#stopped) return;
    this.#pending.add(reason);
    if (this.#running === undefined) this.#running = this.#drain();
  }

  /** Resolves when no pass runs and none is waiting. */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  /** Starts no further pass; resolves once the running one (if any) has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#pending.clear();
    await this.idle();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.size > 0 && !this.#stopped) {
        const reasons = [...this.#pending].sort();
        this.#pending.clear();
        await this.#run(reasons);
      }
    } finally {
      this.#running = undefined;
    }
  }
}
