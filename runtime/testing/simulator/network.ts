// The simulator's network: messages in flight between simulated nodes, with partitions,
// drops, duplicates, delays (in ticks) and reordering, every choice drawn from the schedule's
// SimRandom.
//
// A message sent at tick t is due at t + delay; among the due messages the schedule picks one
// at random (or, sometimes, the oldest), so messages overtake each other freely, as Raft
// allows (§5.1: "messages may be lost, duplicated, delayed or reordered"). Partitions are
// groups: two nodes talk only while they are in the same group, decided at delivery time, so
// a message in flight when a partition starts is lost. The network never looks inside a
// message; the cluster decides what a lost MsgSnapshot means for its sender.
//
// This file must not use Math.random or Date and must not import a test framework.

import type { Message } from "../../raft/index.js";
import type { SimRandom } from "./random.js";

/** How hostile the network is. Rates are per message. */
export interface NetworkFaults {
  /** Probability that a message is lost when sent. */
  dropRate: number;
  /** Probability that a message is delivered twice (the copy with its own delay). */
  duplicateRate: number;
  /** Largest delay in ticks; each message waits a uniform 0..maxDelay ticks. */
  maxDelay: number;
  /** Probability that a delay is drawn at all (else the message is due at once). */
  delayRate: number;
}

export const NO_FAULTS: NetworkFaults = Object.freeze({ dropRate: 0, duplicateRate: 0, maxDelay: 0, delayRate: 0 });

export interface InFlight {
  msg: Message;
  /** The tick from which it may be delivered. */
  due: number;
  /** Send order, for "deliver the oldest" and for stable traces. */
  seq: number;
}

export class Network {
  /** Messages in flight, in no particular order. */
  private inFlight: InFlight[] = [];
  private seq = 0;
  /** Partition group of each node; nodes absent from the map are in group 0. */
  private groups = new Map<number, number>();
  faults: NetworkFaults;
  /** Counters for the run summary. */
  sent = 0;
  droppedOnSend = 0;
  duplicated = 0;

  constructor(
    private readonly rand: SimRandom,
    faults: NetworkFaults,
  ) {
    this.faults = faults;
  }

  get size(): number {
    return this.inFlight.length;
  }

  /**
   * Put a message on the wire at tick `now`. Returns how many copies are in flight (0 when
   * it was dropped at once, 2 when duplicated).
   */
  send(msg: Message, now: number): number {
    this.sent++;
    const f = this.faults;
    if (this.rand.chance(f.dropRate)) {
      this.droppedOnSend++;
      return 0;
    }
    const copies = this.rand.chance(f.duplicateRate) ? 2 : 1;
    if (copies === 2) this.duplicated++;
    for (let k = 0; k < copies; k++) {
      const delay = f.maxDelay > 0 && this.rand.chance(f.delayRate) ? this.rand.range(0, f.maxDelay) : 0;
      this.inFlight.push({ msg, due: now + delay, seq: this.seq++ });
    }
    return copies;
  }

  /** Whether some message is due at `now`. */
  hasDue(now: number): boolean {
    for (const m of this.inFlight) if (m.due <= now) return true;
    return false;
  }

  /**
   * Take one due message off the wire: a random one, or with probability `fifoRate` the
   * oldest. Undefined when nothing is due.
   */
  takeDue(now: number, fifoRate: number): InFlight | undefined {
    let count = 0;
    let oldest = -1;
    for (let k = 0; k < this.inFlight.length; k++) {
      const m = this.inFlight[k]!;
      if (m.due > now) continue;
      count++;
      if (oldest < 0 || m.seq < this.inFlight[oldest]!.seq) oldest = k;
    }
    if (count === 0) return undefined;
    let at = oldest;
    if (!this.rand.chance(fifoRate)) {
      let nth = this.rand.int(count);
      for (let k = 0; k < this.inFlight.length; k++) {
        if (this.inFlight[k]!.due > now) continue;
        if (nth-- === 0) {
          at = k;
          break;
        }
      }
    }
    const m = this.inFlight[at]!;
    // Swap-remove: order in the array carries no meaning (seq does).
    this.inFlight[at] = this.inFlight[this.inFlight.length - 1]!;
    this.inFlight.pop();
    return m;
  }

  /** Make every message in flight due now (used when the network heals for the liveness check). */
  expediteAll(now: number): void {
    for (const m of this.inFlight) m.due = Math.min(m.due, now);
  }

  /** Whether `a` and `b` can currently talk. */
  connected(a: number, b: number): boolean {
    return (this.groups.get(a) ?? 0) === (this.groups.get(b) ?? 0);
  }

  /** Split `ids` into two random non-empty groups (when there are at least two ids). */
  splitRandomly(ids: readonly number[]): number[][] {
    const order = this.rand.shuffled(ids);
    const cut = ids.length < 2 ? ids.length : this.rand.range(1, ids.length - 1);
    this.groups = new Map();
    const a = order.slice(0, cut).sort((x, y) => x - y);
    const b = order.slice(cut).sort((x, y) => x - y);
    for (const id of b) this.groups.set(id, 1);
    return [a, b];
  }

  /** Cut `id` off from everyone else (keeping other partitions as they are). */
  isolate(id: number): void {
    let max = 0;
    for (const g of this.groups.values()) max = Math.max(max, g);
    this.groups.set(id, max + 1);
  }

  /** Remove every partition. */
  heal(): void {
    this.groups = new Map();
  }

  /** A short description of the partition, e.g. "{1,2} {3}" or "healed". */
  describePartition(ids: readonly number[]): string {
    const by = new Map<number, number[]>();
    for (const id of ids) {
      const g = this.groups.get(id) ?? 0;
      const list = by.get(g) ?? [];
      list.push(id);
      by.set(g, list);
    }
    if (by.size <= 1) return "healed";
    return [...by.keys()]
      .sort((x, y) => x - y)
      .map((g) => `{${by.get(g)!.join(",")}}`)
      .join(" ");
  }
}
