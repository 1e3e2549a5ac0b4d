// The node's dependencies, as interfaces (hashicorp/raft's spirit, STYLE 7.2): a storage
// that is the core's read view plus synced writes and snapshot streaming, and a transport.
// runtime/storage (RocksDB) and runtime/transport (gRPC) implement them for production;
// runtime/testing has in-memory twins for tests.
//
// This file declares types only.

import type { ConfState, Entry, HardState, Message, SnapshotMetadata, Storage } from "../raft/index.js";
import type { StateOp } from "./state-machine.js";

/** One Ready's durable part. */
export interface PersistRequest {
  entries: Entry[];
  hardState?: HardState;
  /** Ready.mustSync: false when only the commit index changed (no fsync needed). */
  mustSync: boolean;
}

/** One applied batch: the effects, the sessions and the applied index, written atomically. */
export interface ApplyRequest {
  ops: StateOp[];
  /** Session records (node/envelope.ts SessionRecord bytes) with their sequence. */
  sessions: { clientId: string; seq: number; record: Uint8Array }[];
  appliedIndex: number;
  /**
   * A new commit index to record in the same batch (the Ready's only durable change was the
   * commit index, so no separate write is made for it). Term and vote are unchanged.
   */
  commit?: number;
  /** Set when a membership change was applied in this batch. */
  confState?: ConfState;
}

/** A captured state-machine view, ready to stream. */
export interface NodeSnapshotSource {
  readonly metadata: SnapshotMetadata;
  chunks(): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

/** Everything a node needs from its durable storage. */
export interface NodeStorage extends Storage {
  /** The applied index as persisted (with the effects it covers). */
  appliedIndex(): number;
  /** Persist entries + hard state in ONE synced batch; resolves after fsync. */
  persistReady(req: PersistRequest): Promise<void>;
  /** Persist one applied batch atomically (need not be synced: the log is). */
  applyBatch(req: ApplyRequest): Promise<void>;
  /** Record snapshot metadata at `index` (<= applied) and compact the log below `compactTo`. */
  snapshotAndCompact(index: number, confState: ConfState, compactTo: number): Promise<void>;
  /**
   * Capture a consistent view of the state machine now and describe it: `metadata` is the
   * applied index the view holds, that entry's term and the configuration then; `chunks()`
   * streams its data lazily from the view (single use); `close()` releases it unread.
   */
  openSnapshotSource(): Promise<NodeSnapshotSource>;
  /**
   * Check that `chunks` are complete, intact snapshot data for `md` (framing, checksum, header
   * = `md`) without writing anything; rejects when they are not. The node calls it before it
   * hands a received snapshot to Raft, because once Raft has taken a snapshot, data that
   * cannot be installed would stop the node. Optional: a storage without it is trusted.
   */
  verifySnapshot?(md: SnapshotMetadata, chunks: AsyncIterable<Uint8Array>): Promise<void>;
  /** Install a snapshot's data and metadata atomically (the log is dropped). */
  installSnapshot(md: SnapshotMetadata, chunks: AsyncIterable<Uint8Array>): Promise<void>;
  /** Every state-table entry and session record, for loading the in-memory state. */
  loadState(): Promise<{ ops: StateOp[]; sessions: { clientId: string; record: Uint8Array }[] }>;
  close(): Promise<void>;
}

/** Everything a node needs from its transport. */
export interface NodeTransport {
  start(events: {
    onMessage(m: Message): void;
    onSnapshot(m: Message, data: AsyncIterable<Uint8Array>): Promise<void>;
    onUnreachable(peer: number): void;
    onSnapshotStatus(peer: number, status: "finish" | "failure"): void;
  }): void;
  addPeer(id: number, address: string): void;
  removePeer(id: number): void;
  send(msgs: readonly Message[]): void;
  sendSnapshot(m: Message, open: () => AsyncIterable<Uint8Array>): void;
  close(): void;
}

/** Hooks for metrics (runtime/server implements them with prom-client). All optional. */
export interface NodeMetrics {
  observeFsyncSeconds?(s: number): void;
  observeApplySeconds?(s: number): void;
  proposal?(outcome: "ok" | "failed"): void;
  readIndexRound?(): void;
  snapshotSent?(outcome: "finish" | "failure"): void;
  snapshotReceived?(): void;
}
