/** Liveness and readiness of a node, as /healthz and /readyz report them. */
export class HealthState {
  readonly #checks = new Map<string, () => boolean>();
  #draining = false;

  /** Adds a readiness condition (e.g. "broker connected"). */
  require(name: string, check: () => boolean): void {
    this.#checks.set(name, check);
  }

  /** A draining node is alive but no longer ready for new work. */
  setDraining(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  readiness(): { ready: boolean; failing: string[] } {
    const failing = [...this.#checks].filter(([, check]) => !check()).map(([name]) => name);
    if (this.#draining) failing.push('draining');
    return { ready: failing.length === 0, failing };
  }
}
