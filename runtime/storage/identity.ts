// Who a data directory belongs to: reading and checking /meta/identity when a RocksStorage
// opens (a directory of another cluster, another node or a newer format is refused with a
// message naming the directory and the key), and bootstrapping an empty directory: identity,
// the initial /raft/ keys and the initial configuration, in one synced batch, so a crash
// during bootstrap leaves either nothing or a complete node.
//
// This file must not read or write anything but /meta/identity and, at bootstrap, the initial
// /raft/ keys.

import { decodeConfState, encodeConfState, encodeHardState, encodeSnapshotMetadata } from "../codec/eraftpb.js";
import type { ConfState } from "../raft/types.js";
import { StorageError, messageOf } from "./errors.js";
import {
  APPLIED_INDEX_KEY,
  CONF_STATE_KEY,
  FIRST_INDEX_KEY,
  HARD_STATE_KEY,
  IDENTITY_KEY,
  LAST_INDEX_KEY,
  SNAPSHOT_KEY,
  UNCOMMIT_INDEX_KEY,
  keyText,
} from "./keys.js";
import { corruptKey } from "./load.js";
import type { BatchOp, RocksDb } from "./rocksdb-binding.js";
import { FORMAT_VERSION, MAX_CLUSTER_ID_BYTES, decodeIdentity, encodeIdentity, encodeRange, encodeU64, seal, type Identity } from "./values.js";

/** What identity checks and bootstrap need from RocksStorage's options. */
export interface IdentityOptions {
  clusterId: string;
  nodeId: number;
  create?: boolean;
  initialConfState?: ConfState;
  /** Bootstrap founding voters as a snapshot at index 1, term 1 (see bootstrap()). */
  foundingSnapshot?: boolean;
  faults?: { beforeWrite?(kind: "bootstrap"): void | Promise<void> };
}

const EMPTY_CONF_STATE: ConfState = Object.freeze({ voters: [], learners: [] }) as ConfState;

/** Throws InvalidArgument for an unusable cluster id or node id. */
export function checkOptions(o: IdentityOptions): void {
  if (typeof o.clusterId !== "string" || o.clusterId.length === 0 || Buffer.byteLength(o.clusterId, "utf8") > MAX_CLUSTER_ID_BYTES) {
    throw new StorageError("InvalidArgument", `cluster id must be a non-empty string of at most ${MAX_CLUSTER_ID_BYTES} bytes`);
  }
  if (!Number.isSafeInteger(o.nodeId) || o.nodeId < 1) {
    throw new StorageError("InvalidArgument", `node id ${o.nodeId} is not a positive safe integer`);
  }
}

/** Reads /meta/identity (bootstrapping an empty directory when allowed) and checks it. */
export async function readIdentity(db: RocksDb, dir: string, options: IdentityOptions): Promise<Identity> {
  let value: Buffer | undefined;
  try {
    value = await db.get(IDENTITY_KEY);
  } catch (err) {
    throw new StorageError("Io", `data directory ${dir}: reading ${keyText(IDENTITY_KEY)} failed: ${messageOf(err)}`, { dir }, { cause: err });
  }
  if (value === undefined) {
    const it = db.iterator({});
    let first: [Buffer, Buffer] | undefined;
    try {
      first = await it.next();
    } finally {
      await it.end().catch(() => undefined);
    }
    if (first !== undefined) {
      throw corruptKey(dir, IDENTITY_KEY, `is missing, but the directory holds other keys (first: ${keyText(first[0])})`);
    }
    if (!options.create) {
      throw new StorageError("NotInitialized", `data directory ${dir} holds no Raft data (open it with create to bootstrap a node)`, { dir });
    }
    return bootstrap(db, dir, options);
  }
  const decoded = decodeIdentity(IDENTITY_KEY, value);
  if ("problem" in decoded) throw corruptKey(dir, IDENTITY_KEY, decoded.problem);
  if ("newerVersion" in decoded) {
    throw new StorageError(
      "NewerFormat",
      `data directory ${dir}: key ${keyText(IDENTITY_KEY)}: written in storage format ${decoded.newerVersion}, ` +
        `this program reads up to format ${FORMAT_VERSION}; run a newer version`,
      { dir, key: keyText(IDENTITY_KEY) },
    );
  }
  const id = decoded.identity;
  if (id.clusterId !== options.clusterId) {
    throw new StorageError(
      "ForeignCluster",
      `data directory ${dir}: key ${keyText(IDENTITY_KEY)}: belongs to cluster ${JSON.stringify(id.clusterId)}, ` +
        `not ${JSON.stringify(options.clusterId)}; refusing to start on another cluster's data`,
      { dir, key: keyText(IDENTITY_KEY) },
    );
  }
  if (id.nodeId !== options.nodeId) {
    throw new StorageError(
      "WrongNode",
      `data directory ${dir}: key ${keyText(IDENTITY_KEY)}: belongs to node ${id.nodeId}, not node ${options.nodeId}; ` +
        "each node needs its own directory",
      { dir, key: keyText(IDENTITY_KEY) },
    );
  }
  return id;
}

/** Writes the initial state of a new node in one synced batch. */
async function bootstrap(db: RocksDb, dir: string, options: IdentityOptions): Promise<Identity> {
  const identity: Identity = { clusterId: options.clusterId, nodeId: options.nodeId, formatVersion: FORMAT_VERSION };
  const cs = options.initialConfState ?? EMPTY_CONF_STATE;
  let csBytes: Uint8Array;
  try {
    csBytes = encodeConfState({ voters: [...cs.voters].sort((a, b) => a - b), learners: [...cs.learners].sort((a, b) => a - b) });
  } catch (err) {
    throw new StorageError("InvalidArgument", `initial conf state: ${messageOf(err)}`, { dir }, { cause: err });
  }
  const sealed = (key: Buffer, payload: Uint8Array): BatchOp => ({ type: "put", key, value: seal(key, payload) });
  // With foundingSnapshot, a founding member records the initial membership as a snapshot at
  // index 1, term 1 (an empty state machine): a node that joins later and needs the log from
  // its start then gets that snapshot, and with it the membership, instead of a log that
  // never mentions the founders. (runtime/node always asks for it.) A joiner (no voters)
  // starts empty and waits for the leader's snapshot.
  const founding = options.foundingSnapshot === true && cs.voters.length > 0;
  const base = founding ? 1 : 0;
  const ops: BatchOp[] = [
    sealed(FIRST_INDEX_KEY, encodeU64(base + 1)),
    sealed(LAST_INDEX_KEY, encodeU64(base)),
    sealed(HARD_STATE_KEY, encodeHardState({ term: base, vote: 0, commit: base })),
    sealed(CONF_STATE_KEY, csBytes),
    sealed(UNCOMMIT_INDEX_KEY, encodeRange(base, base)),
    sealed(SNAPSHOT_KEY, encodeSnapshotMetadata({ index: base, term: base, confState: founding ? decodeConfState(csBytes) : { voters: [], learners: [] } })),
    sealed(APPLIED_INDEX_KEY, encodeU64(base)),
    { type: "put", key: IDENTITY_KEY, value: encodeIdentity(IDENTITY_KEY, identity) },
  ];
  try {
    await options.faults?.beforeWrite?.("bootstrap");
    await db.write(ops, { sync: true });
  } catch (err) {
    throw new StorageError("Io", `data directory ${dir}: bootstrap write failed: ${messageOf(err)}`, { dir }, { cause: err });
  }
  return identity;
}
