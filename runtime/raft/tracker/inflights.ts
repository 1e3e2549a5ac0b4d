// Inflights: the leader's window of MsgAppend messages sent to one follower in the Replicate
// state and not yet acknowledged, limited both by count and by bytes (flow control).
//
// Each slot records the last index of one message and its payload size. An acknowledgement
// of index i frees every slot whose index is <= i.
//
// This file must not import raft.ts (STYLE 7.1).

export class Inflights {
  private start = 0;
  private count_ = 0;
  private bytes_ = 0;
  private readonly indexes: number[];
  private readonly sizes: number[];

  /**
   * @param size maximum number of messages in flight (>= 1)
   * @param maxBytes maximum summed payload bytes in flight; 0 = unlimited
   */
  constructor(
    readonly size: number,
    readonly maxBytes: number,
  ) {
    this.indexes = new Array<number>(size).fill(0);
    this.sizes = new Array<number>(size).fill(0);
  }

  /** A copy with the same contents (for status snapshots). */
  clone(): Inflights {
    const c = new Inflights(this.size, this.maxBytes);
    for (let i = 0; i < this.count_; i++) {
      const j = (this.start + i) % this.size;
      c.add(this.indexes[j]!, this.sizes[j]!);
    }
    return c;
  }

  /** Record a message whose last entry index is `index` carrying `bytes` payload bytes. */
  add(index: number, bytes: number): void {
    if (this.full()) throw new Error("cannot add into a full inflights window");
    const next = (this.start + this.count_) % this.size;
    this.indexes[next] = index;
    this.sizes[next] = bytes;
    this.count_++;
    this.bytes_ += bytes;
  }

  /** Free every slot whose index is <= `to` (the follower acknowledged through `to`). */
  freeLE(to: number): void {
    if (this.count_ === 0 || to < this.indexes[this.start]!) return;
    let i = 0;
    let idx = this.start;
    let freedBytes = 0;
    for (; i < this.count_; i++) {
      if (to < this.indexes[idx]!) break;
      freedBytes += this.sizes[idx]!;
      idx = (idx + 1) % this.size;
    }
    this.count_ -= i;
    this.bytes_ -= freedBytes;
    this.start = idx;
    if (this.count_ === 0) this.start = 0; // keep the window compact
  }

  /** Whether no more messages may be sent: by count, or by bytes when a byte limit is set. */
  full(): boolean {
    return this.count_ === this.size || (this.maxBytes !== 0 && this.bytes_ >= this.maxBytes);
  }

  count(): number {
    return this.count_;
  }

  bytes(): number {
    return this.bytes_;
  }

  reset(): void {
    this.start = 0;
    this.count_ = 0;
    this.bytes_ = 0;
  }
}
