// ReadOnly: the leader's bookkeeping of ReadIndex requests (Raft thesis §6.4).
//
// In the "safe" option a request records the commit index at the time it arrived, then
// rides on a heartbeat round whose context is the request's context; once a quorum has
// answered that heartbeat, the leader knows it was still leader when the request arrived,
// and every request queued up to and including it can be answered with its recorded index.
// In the "lease-based" option the leader answers at once, trusting its lease (check-quorum
// must be on; clock drift can break it, which is why it is an option).
//
// This file must not do I/O.

import type { Message } from "./types.js";

export type ReadOnlyOption = "safe" | "lease-based";

/** A pending read: the commit index when it arrived, the request, and who acknowledged. */
export interface ReadIndexStatus {
  req: Message;
  index: number;
  acks: Set<number>;
}

/** Request contexts are bytes; the maps key them by a string made of the same bytes. */
export function contextKey(ctx: Uint8Array): string {
  let s = "";
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]!);
  return s;
}

export class ReadOnly {
  private pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  constructor(readonly option: ReadOnlyOption) {}

  /** Queue a read request (its context is in m.entries[0].data) at commit index `index`. */
  addRequest(index: number, m: Message): void {
    const key = contextKey(m.entries[0]!.data);
    if (this.pending.has(key)) return;
    this.pending.set(key, { index, req: m, acks: new Set() });
    this.queue.push(key);
  }

  /** A heartbeat response with context `ctx` came from `id`. Returns the acks so far. */
  recvAck(id: number, ctx: Uint8Array): Set<number> | undefined {
    const rs = this.pending.get(contextKey(ctx));
    if (!rs) return undefined;
    rs.acks.add(id);
    return rs.acks;
  }

  /**
   * The request with context `ctx` has been confirmed by a quorum: it and every request
   * queued before it are ready. Returns them in arrival order and forgets them.
   */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of done) {
      const rs = this.pending.get(k);
      if (!rs) throw new Error(`cannot find the corresponding read state from pending map`);
      this.pending.delete(k);
      out.push(rs);
    }
    return out;
  }

  /** Context of the newest pending request, to attach to the next heartbeat. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    return this.pending.get(this.queue[this.queue.length - 1]!)!.req.entries[0]!.data;
  }

  pendingCount(): number {
    return this.queue.length;
  }
}
