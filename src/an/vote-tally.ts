/** Serialises JSON with sorted keys, so equal results compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export type TallyOutcome =
  | { kind: 'pending' }
  | { kind: 'agreed'; result: unknown; majority: string[]; minority: string[] }
  | { kind: 'impossible'; votes: number; best: number };

/**
 * Votes of redundant replicas: succeeds when `quorum` successful results agree (canonical JSON),
 * fails as soon as agreement can no longer be reached with the replicas still out.
 */
export class VoteTally {
  readonly #votes = new Map<string, { ok: boolean; key: string; result: unknown }>();
  constructor(readonly replicas: number, readonly quorum: number) {}

  record(ki: string, ok: boolean, result: unknown): TallyOutcome {
    this.#votes.set(ki, { ok, key: ok ? canonicalJson(result) : `error:${ki}`, result });
    return this.outcome();
  }

  /** A replica that will never answer (its Ki died and no replacement is possible). */
  forfeit(ki: string): TallyOutcome {
    return this.record(ki, false, null);
  }

  get voters(): string[] {
    return [...this.#votes.keys()];
  }

  outcome(): TallyOutcome {
    const groups = new Map<string, string[]>();
    for (const [ki, v] of this.#votes) if (v.ok) groups.set(v.key, [...(groups.get(v.key) ?? []), ki]);
    let best: string[] = [];
    let bestKey = '';
    for (const [key, kis] of groups) if (kis.length > best.length) { best = kis; bestKey = key; }
    if (best.length >= this.quorum) {
      const winner = this.#votes.get(best[0]!)!;
      return { kind: 'agreed', result: winner.result, majority: best, minority: [...this.#votes.keys()].filter((k) => this.#votes.get(k)!.key !== bestKey) };
    }
    const outstanding = this.replicas - this.#votes.size;
    if (best.length + outstanding < this.quorum) return { kind: 'impossible', votes: this.#votes.size, best: best.length };
    return { kind: 'pending' };
  }
}
