// The simulator's single source of choices: a thin helper over the core's SeededRandom.
//
// Every decision of a simulated schedule (which action comes next, which message is delivered,
// dropped or duplicated, where a crash hits, each node's election jitter) is drawn from one
// SimRandom built from the schedule's seed, so a seed replays a run exactly. Sub-streams for
// the nodes' own RandomSource are forked from it (fork()), never seeded from anything else.
//
// This file must not use Math.random, Date or any other source of nondeterminism.

import { SeededRandom } from "../../raft/index.js";

export class SimRandom {
  private readonly src: SeededRandom;

  constructor(seed: number) {
    this.src = new SeededRandom(seed);
  }

  /** A float in [0, 1). */
  float(): number {
    return this.src.next();
  }

  /** An integer in [0, n), n >= 1. */
  int(n: number): number {
    return this.src.intn(n);
  }

  /** An integer in [lo, hi], both inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.src.intn(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.src.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new RangeError("pick from an empty array");
    return xs[this.src.intn(xs.length)]!;
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffled<T>(xs: readonly T[]): T[] {
    const out = xs.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.src.intn(i + 1);
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }

  /** A key chosen with probability proportional to its weight (weights >= 0, some > 0). */
  weighted<K>(choices: ReadonlyArray<readonly [K, number]>): K {
    let total = 0;
    for (const [, w] of choices) total += w;
    let x = this.src.next() * total;
    for (const [k, w] of choices) {
      if (x < w) return k;
      x -= w;
    }
    return choices[choices.length - 1]![0];
  }

  /** A seed for a sub-stream (a node's election jitter). */
  fork(): number {
    return this.src.intn(0x7fffffff) + 1;
  }
}
