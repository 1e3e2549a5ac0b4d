// RocksNodeStorage: RocksStorage seen through the node's NodeStorage interface
// (runtime/node/interfaces.ts). A thin adapter: it maps the node's state ops and session
// records to RocksStorage's batch ops and loads the whole state machine for the node's
// in-memory tables. Every rule (synced Ready batches, atomic apply batches, point-in-time
// snapshot views) lives in RocksStorage.
//
// Founding members are bootstrapped with the initial membership as a snapshot at index 1
// (RocksStorageOptions.foundingSnapshot), so that nodes joining later learn it.

import type { ApplyRequest, NodeSnapshotSource, NodeStorage, PersistRequest } from "../node/interfaces.js";
import type { StateOp as NodeStateOp } from "../node/state-machine.js";
import type { ConfState, Entry, RaftState, Snapshot, SnapshotMetadata } from "../raft/index.js";
import { tablePrefix } from "./keys.js";
import { RocksStorage, type StateOp } from "./rocks-storage.js";
import { decodeSnapshotStream } from "./snapshot-stream.js";

export interface NodeStorageOptions {
  clusterId: string;
  nodeId: number;
  /** Create and bootstrap the directory when it holds no data. */
  create?: boolean;
  /** Founding voters (empty or absent for a node that will join an existing cluster). */
  voters?: number[];
  /** State tables to load at start-up (the state machine's tables). */
  tables: readonly string[];
}

export class RocksNodeStorage implements NodeStorage {
  private constructor(
    readonly rocks: RocksStorage,
    private readonly tables: readonly string[],
  ) {}

  static async open(dir: string, o: NodeStorageOptions): Promise<RocksNodeStorage> {
    const voters = o.voters ?? [];
    const rocks = await RocksStorage.open(dir, {
      clusterId: o.clusterId,
      nodeId: o.nodeId,
      create: o.create ?? false,
      ...(voters.length > 0 ? { initialConfState: { voters, learners: [] } } : {}),
      foundingSnapshot: true,
    });
    for (const t of o.tables) tablePrefix(t); // validates every name before anything runs
    return new RocksNodeStorage(rocks, o.tables);
  }

  initialState(): RaftState {
    return this.rocks.initialState();
  }
  entries(lo: number, hi: number, maxBytes?: number): Entry[] {
    return this.rocks.entries(lo, hi, maxBytes);
  }
  term(i: number): number {
    return this.rocks.term(i);
  }
  firstIndex(): number {
    return this.rocks.firstIndex();
  }
  lastIndex(): number {
    return this.rocks.lastIndex();
  }
  snapshot(requestIndex: number, to: number): Snapshot {
    return this.rocks.snapshot(requestIndex, to);
  }
  appliedIndex(): number {
    return this.rocks.appliedIndex();
  }

  persistReady(req: PersistRequest): Promise<void> {
    return this.rocks.persistReady({ entries: req.entries, mustSync: req.mustSync, ...(req.hardState ? { hardState: req.hardState } : {}) });
  }

  applyBatch(req: ApplyRequest): Promise<void> {
    const ops: StateOp[] = req.ops.map((op: NodeStateOp): StateOp =>
      op.value === undefined
        ? { type: "delete", table: op.table, key: op.key }
        : { type: "put", table: op.table, key: op.key, value: op.value },
    );
    for (const s of req.sessions) {
      ops.push({ type: "putSession", clientId: s.clientId, session: { lastSequence: s.seq, reply: s.record } });
    }
    // Unsynced: the log these effects come from is durable (see rocks-storage.ts).
    return this.rocks.applyBatch(ops, req.appliedIndex, req.confState, { sync: false, ...(req.commit !== undefined ? { commit: req.commit } : {}) });
  }

  async snapshotAndCompact(index: number, confState: ConfState, compactTo: number): Promise<void> {
    await this.rocks.createSnapshot(index, confState);
    if (compactTo > this.rocks.firstIndex() - 1) await this.rocks.compact(compactTo);
  }

  openSnapshotSource(): Promise<NodeSnapshotSource> {
    return this.rocks.openSnapshotSource();
  }

  async verifySnapshot(md: SnapshotMetadata, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    await decodeSnapshotStream(chunks, () => undefined, md);
  }

  installSnapshot(md: SnapshotMetadata, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    return this.rocks.installSnapshot(md, chunks);
  }

  async loadState(): Promise<{ ops: NodeStateOp[]; sessions: { clientId: string; record: Uint8Array }[] }> {
    const ops: NodeStateOp[] = [];
    for (const table of this.tables) {
      for await (const row of this.rocks.scan(table)) ops.push({ table, key: row.key, value: row.value });
    }
    const sessions: { clientId: string; record: Uint8Array }[] = [];
    for await (const s of this.rocks.scanSessions()) sessions.push({ clientId: s.clientId, record: s.session.reply });
    return { ops, sessions };
  }

  close(): Promise<void> {
    return this.rocks.close();
  }
}

