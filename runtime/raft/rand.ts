// The seeded random source of the core. The core never uses the platform's global random
// number generator: the only randomness it uses (the randomized election timeout, Raft §5.2) comes through
// Config.rand, so a run is replayable from its seed.
//
// This file must stay free of I/O and of global state.

/** A source of random integers. Implementations must be deterministic given their seed. */
export interface RandomSource {
  /** A uniformly distributed integer in [0, n), n >= 1. */
  intn(n: number): number;
}

/**
 * A small, fast PRNG (mulberry32 over a 32-bit state). Good enough for election jitter and
 * for the simulator's schedule choices; not for cryptography.
 */
export class SeededRandom implements RandomSource {
  private state: number;

  constructor(seed: number) {
    // Mix the seed so that nearby seeds give unrelated sequences.
    this.state = (seed ^ 0x9e3779b9) >>> 0;
    if (this.state === 0) this.state = 0x6d2b79f5;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  intn(n: number): number {
    if (!(n >= 1)) throw new RangeError(`intn: n must be >= 1, got ${n}`);
    return Math.floor(this.next() * n);
  }
}
