// MemoryNodeStorage: the in-memory twin of the RocksDB node storage, for in-process cluster
// tests. It keeps the same contract as runtime/storage's RocksStorage (NodeStorage): entries
// and hard state of a Ready land together, effects and applied index land together, snapshot
// data is captured at once and streamed lazily. Nothing here survives the process.
//
// Not for production: it is the twin beside the real thing, never instead of it.

import type { ApplyRequest, NodeSnapshotSource, NodeStorage, PersistRequest } from "../../node/interfaces.js";
import type { StateOp } from "../../node/state-machine.js";
import { decodeKeyBody, encodeKeyBody } from "../../storage/index.js";
import { type ConfState, type Entry, MemoryStorage, type RaftState, type Snapshot, type SnapshotMetadata } from "../../raft/index.js";

interface Image {
  tables: Map<string, Map<string, Uint8Array>>;
  sessions: Map<string, Uint8Array>;
  applied: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class MemoryNodeStorage implements NodeStorage {
  private readonly log: MemoryStorage;
  private tables = new Map<string, Map<string, Uint8Array>>();
  private sessions = new Map<string, Uint8Array>();
  private applied = 0;
  /** When set, every write fails with this error (to test fatal storage failures). */
  failWith: Error | undefined;

  /**
   * A bootstrapped member of a new cluster (voters non-empty), or an empty node waiting to be
   * added (voters empty). Bootstrap records the initial configuration as a snapshot at index
   * 1, term 1 (BOOTSTRAP_INDEX) rather than as bare ConfState: then a node that joins later
   * and needs the log from its start gets that snapshot, and with it the membership.
   */
  constructor(voters: number[], learners: number[] = []) {
    this.log = new MemoryStorage();
    if (voters.length > 0) {
      const confState = { voters: [...voters].sort((a, b) => a - b), learners: [...learners].sort((a, b) => a - b) };
      this.log.applySnapshot({ data: new Uint8Array(), metadata: { index: 1, term: 1, confState } });
      this.applied = 1;
    }
  }

  initialState(): RaftState {
    return this.log.initialState();
  }
  entries(lo: number, hi: number, maxBytes?: number): Entry[] {
    return this.log.entries(lo, hi, maxBytes);
  }
  term(i: number): number {
    return this.log.term(i);
  }
  firstIndex(): number {
    return this.log.firstIndex();
  }
  lastIndex(): number {
    return this.log.lastIndex();
  }
  snapshot(requestIndex: number, to: number): Snapshot {
    return this.log.snapshot(requestIndex, to);
  }
  appliedIndex(): number {
    return this.applied;
  }

  async persistReady(req: PersistRequest): Promise<void> {
    await Promise.resolve();
    if (this.failWith) throw this.failWith;
    this.log.append(req.entries);
    if (req.hardState) this.log.setHardState(req.hardState);
  }

  async applyBatch(req: ApplyRequest): Promise<void> {
    await Promise.resolve();
    if (this.failWith) throw this.failWith;
    this.applyOps(req.ops);
    for (const s of req.sessions) this.sessions.set(s.clientId, s.record);
    this.applied = req.appliedIndex;
    if (req.commit !== undefined) this.log.setHardState({ ...this.log.initialState().hardState, commit: req.commit });
    if (req.confState) this.log.setConfState(req.confState);
  }

  private applyOps(ops: readonly StateOp[]): void {
    for (const op of ops) {
      let t = this.tables.get(op.table);
      if (!t) this.tables.set(op.table, (t = new Map()));
      // Keyed by the storage's key encoding, as the RocksDB storage does on disk.
      const k = encodeKeyBody(op.key).toString("latin1");
      if (op.value === undefined) t.delete(k);
      else t.set(k, op.value);
    }
  }

  async snapshotAndCompact(index: number, confState: ConfState, compactTo: number): Promise<void> {
    this.log.createSnapshot(index, confState, new Uint8Array());
    if (compactTo >= this.log.firstIndex()) this.log.compact(compactTo);
  }

  async openSnapshotSource(): Promise<NodeSnapshotSource> {
    // Capture now: a deep copy is this twin's consistent view.
    const image = {
      applied: this.applied,
      tables: [...this.tables].map(([t, m]) => [t, [...m].map(([k, v]) => [Buffer.from(k, "latin1").toString("base64"), Buffer.from(v).toString("base64")])]),
      sessions: [...this.sessions].map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
    };
    const bytes = enc.encode(JSON.stringify(image));
    const metadata: SnapshotMetadata = {
      index: this.applied,
      term: this.log.term(this.applied),
      confState: this.log.initialState().confState,
    };
    return {
      metadata,
      chunks: async function* () {
        for (let i = 0; i < bytes.length; i += 64 * 1024) yield bytes.subarray(i, i + 64 * 1024);
      },
      close: async () => {},
    };
  }

  async installSnapshot(md: SnapshotMetadata, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const parts: Uint8Array[] = [];
    for await (const c of chunks) parts.push(c);
    const raw = JSON.parse(dec.decode(Buffer.concat(parts))) as {
      applied: number;
      tables: [string, [string, string][]][];
      sessions: [string, string][];
    };
    if (raw.applied !== md.index) throw new Error(`snapshot data is at ${raw.applied}, metadata says ${md.index}`);
    const image: Image = {
      applied: raw.applied,
      tables: new Map(raw.tables.map(([t, rows]) => [t, new Map(rows.map(([k, v]) => [Buffer.from(k, "base64").toString("latin1"), new Uint8Array(Buffer.from(v, "base64"))]))])),
      sessions: new Map(raw.sessions.map(([k, v]) => [k, new Uint8Array(Buffer.from(v, "base64"))])),
    };
    this.log.applySnapshot({ data: new Uint8Array(), metadata: md });
    this.tables = image.tables;
    this.sessions = image.sessions;
    this.applied = image.applied;
  }

  async loadState(): Promise<{ ops: StateOp[]; sessions: { clientId: string; record: Uint8Array }[] }> {
    const ops: StateOp[] = [];
    for (const [table, rows] of this.tables) {
      for (const [k, value] of rows) {
        const d = decodeKeyBody(Buffer.from(k, "latin1"));
        ops.push({ table, key: d, value });
      }
    }
    return { ops, sessions: [...this.sessions].map(([clientId, record]) => ({ clientId, record })) };
  }

  async close(): Promise<void> {}
}
