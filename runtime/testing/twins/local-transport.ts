// LocalNetwork: the in-memory twin of the gRPC transport, for in-process cluster tests. Each
// node gets a LocalTransport; messages are delivered asynchronously (a macrotask later), in
// order per link, and links can be cut to simulate partitions and dead peers. Snapshot
// streams are delivered chunk by chunk like the real one.
//
// Not for production: it is the twin beside the real thing, never instead of it.

import type { NodeTransport } from "../../node/interfaces.js";
import type { Message } from "../../raft/index.js";

type Events = Parameters<NodeTransport["start"]>[0];

export class LocalNetwork {
  private readonly endpoints = new Map<number, LocalTransport>();
  private readonly cuts = new Set<string>();

  transport(id: number): LocalTransport {
    const t = new LocalTransport(this, id);
    this.endpoints.set(id, t);
    return t;
  }

  /** Cut both directions between a and b. */
  cut(a: number, b: number): void {
    this.cuts.add(`${a}-${b}`);
    this.cuts.add(`${b}-${a}`);
  }

  isolate(id: number, others: number[]): void {
    for (const o of others) if (o !== id) this.cut(id, o);
  }

  heal(): void {
    this.cuts.clear();
  }

  /** Internal. */
  linkUp(from: number, to: number): boolean {
    const dest = this.endpoints.get(to);
    return !this.cuts.has(`${from}-${to}`) && dest !== undefined && dest.isOpen();
  }

  endpoint(id: number): LocalTransport | undefined {
    return this.endpoints.get(id);
  }
}

export class LocalTransport implements NodeTransport {
  private events: Events | undefined;
  private closed = false;
  private readonly peers = new Set<number>();

  constructor(
    private readonly net: LocalNetwork,
    readonly id: number,
  ) {}

  isOpen(): boolean {
    return !this.closed && this.events !== undefined;
  }

  start(events: Events): void {
    this.events = events;
  }
  addPeer(id: number): void {
    this.peers.add(id);
  }
  removePeer(id: number): void {
    this.peers.delete(id);
  }

  send(msgs: readonly Message[]): void {
    if (this.closed || msgs.length === 0) return;
    const batch = [...msgs];
    setImmediate(() => {
      for (const m of batch) {
        if (!this.peers.has(m.to) || !this.net.linkUp(this.id, m.to)) {
          this.events?.onUnreachable(m.to);
          continue;
        }
        this.net.endpoint(m.to)!.deliver(m);
      }
    });
  }

  sendSnapshot(m: Message, open: () => AsyncIterable<Uint8Array>): void {
    const dest = this.net.endpoint(m.to);
    setImmediate(() => {
      if (!dest || !this.net.linkUp(this.id, m.to)) {
        this.events?.onSnapshotStatus(m.to, "failure");
        return;
      }
      dest.receiveSnapshot(m, open()).then(
        () => this.events?.onSnapshotStatus(m.to, "finish"),
        () => this.events?.onSnapshotStatus(m.to, "failure"),
      );
    });
  }

  /** Internal. */
  deliver(m: Message): void {
    if (this.isOpen()) this.events!.onMessage(m);
  }

  /** Internal. */
  receiveSnapshot(m: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    if (!this.isOpen()) return Promise.reject(new Error("closed"));
    return this.events!.onSnapshot(m, data);
  }

  close(): void {
    this.closed = true;
  }
}
