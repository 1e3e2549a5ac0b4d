// A tiny synchronous in-memory network of RawNodes for the core's unit and scenario tests
// (etcd's `network` helper, in our own shape). Every node persists each Ready into its
// MemoryStorage before its persisted messages go out, exactly as the driver contract says.
//
// deliver() runs until no message is left (or a step budget runs out), with optional drops
// and cuts between pairs of nodes. Tests that need finer control use `node(id)` directly.

import {
  type Config,
  ConfChangeType,
  decodeConfChange,
  EntryType,
  type Entry,
  type Message,
  MemoryStorage,
  RawNode,
  type Ready,
  type ReadState,
  SeededRandom,
  isRaftError,
} from "../../runtime/raft/index.js";

export interface NetNode {
  id: number;
  node: RawNode;
  storage: MemoryStorage;
  /** Every entry applied so far, in order. */
  applied: Entry[];
  readStates: ReadState[];
}

export interface NetworkOptions {
  /** Voters at bootstrap (default [1, 2, 3]). */
  voters?: number[];
  learners?: number[];
  /** Extra config for every node. */
  config?: Partial<Config>;
  /** Per-node config overrides. */
  configFor?: (id: number) => Partial<Config>;
  seed?: number;
}

export class Network {
  readonly nodes = new Map<number, NetNode>();
  /** Messages waiting for delivery, in send order. */
  queue: Message[] = [];
  /** Cut links: "from->to" keys; messages over them are dropped. */
  private cuts = new Set<string>();
  /** Message types to drop everywhere. */
  private dropTypes = new Set<number>();
  private seed: number;

  constructor(private readonly opts: NetworkOptions = {}) {
    this.seed = opts.seed ?? 1;
    const voters = opts.voters ?? [1, 2, 3];
    const learners = opts.learners ?? [];
    for (const id of [...voters, ...learners]) this.addNode(id, MemoryStorage.withPeers(voters, learners));
  }

  /** Start a node on `storage` (a fresh one joining, or a restarted one). */
  addNode(id: number, storage: MemoryStorage, extra: Partial<Config> = {}): NetNode {
    const node = new RawNode(
      {
        id,
        electionTick: 10,
        heartbeatTick: 1,
        rand: new SeededRandom(this.seed * 1000 + id),
        ...this.opts.config,
        ...(this.opts.configFor?.(id) ?? {}),
        ...extra,
      },
      storage,
    );
    const n: NetNode = { id, node, storage, applied: [], readStates: [] };
    this.nodes.set(id, n);
    return n;
  }

  node(id: number): NetNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Cut both directions between a and b. */
  cut(a: number, b: number): void {
    this.cuts.add(`${a}->${b}`);
    this.cuts.add(`${b}->${a}`);
  }

  /** Cut `id` off from every other node. */
  isolate(id: number): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cut(id, other);
  }

  heal(): void {
    this.cuts.clear();
    this.dropTypes.clear();
  }

  ignore(type: number): void {
    this.dropTypes.add(type);
  }

  /**
   * Process one Ready of node `id` as a driver would: persist (snapshot, entries, hard
   * state), queue messages, apply committed entries (conf changes included), advance.
   */
  processReady(id: number): Ready | undefined {
    const n = this.node(id);
    if (!n.node.hasReady()) return undefined;
    const rd = n.node.ready();
    this.queue.push(...rd.messages);
    if (rd.snapshot) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    this.queue.push(...rd.persistedMessages);
    n.readStates.push(...rd.readStates);
    for (const e of rd.committedEntries) {
      n.applied.push(e);
      if (e.type === EntryType.EntryConfChange) {
        const cc = decodeConfChange(e.data);
        try {
          n.storage.setConfState(n.node.applyConfChange(cc));
        } catch (err) {
          if (!isRaftError(err, "InvalidConfig")) throw err;
        }
        if (cc.type === ConfChangeType.RemoveNode && cc.nodeId === id) {
          /* removed: it keeps running but no longer takes part */
        }
      }
    }
    n.node.advance(rd);
    return rd;
  }

  /** Process every node's Ready until none has one. */
  processAll(): void {
    for (let guard = 0; guard < 100; guard++) {
      let any = false;
      for (const id of [...this.nodes.keys()].sort((a, b) => a - b)) {
        if (this.processReady(id)) any = true;
      }
      if (!any) return;
    }
  }

  /** Deliver one message (unless cut or dropped). Proposal errors from steps are ignored. */
  deliverOne(m: Message): void {
    if (this.cuts.has(`${m.from}->${m.to}`) || this.dropTypes.has(m.type)) return;
    const n = this.nodes.get(m.to);
    if (!n) return;
    try {
      n.node.step(m);
    } catch (err) {
      if (!isRaftError(err)) throw err;
    }
  }

  /** Process Readies and deliver messages until the network is quiet. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      this.processAll();
      if (this.queue.length === 0) return;
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) this.deliverOne(m);
    }
    throw new Error("network did not stabilize");
  }

  /** Campaign on `id` and let the network settle. */
  elect(id: number): void {
    this.node(id).node.campaign();
    this.stabilize();
  }

  /** Tick every node `n` times, stabilizing after each tick. */
  tickAll(n: number): void {
    for (let i = 0; i < n; i++) {
      for (const id of [...this.nodes.keys()].sort((a, b) => a - b)) this.node(id).node.tick();
      this.stabilize();
    }
  }

  /** The leader among live nodes, or undefined. */
  leader(): number | undefined {
    for (const [id, n] of this.nodes) if (n.node.raft.state === "Leader") return id;
    return undefined;
  }
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);
