// Start-up validation of a node's data directory: reads every /raft/ key once, checks that
// each decodes and that the keys agree with each other, and returns the state RocksStorage
// starts from. Anything wrong stops the node before it runs (DESIGN "Errors and bad input": a
// corrupt or foreign data directory stops the node at start-up with a clear message), with a
// StorageError naming the directory and the key at fault.
//
// Checks, in order: every singleton /raft/ key present, sealed (CRC-32) and decodable; no
// unknown key under /raft/; every entry key well-formed, its value decodable and its index
// equal to the key's; entries exactly [first, last] with no gap (plus, optionally, the
// boundary entry first-1 that compaction keeps); terms non-decreasing; the boundary term
// known; first-1 <= snapshot index <= commit <= last; applied <= commit; and
// uncommit_index == (commit, last].
//
// This file must not write: it only reads and judges.

import { CodecError, decodeConfState, decodeEntry, decodeHardState, decodeSnapshotMetadata } from "../codec/eraftpb.js";
import type { ConfState, Entry, HardState, SnapshotMetadata } from "../raft/types.js";
import { StorageError, messageOf } from "./errors.js";
import {
  APPLIED_INDEX_KEY,
  CONF_STATE_KEY,
  ENTRY_PREFIX,
  FIRST_INDEX_KEY,
  HARD_STATE_KEY,
  LAST_INDEX_KEY,
  RAFT_KEYS,
  RAFT_PREFIX,
  SNAPSHOT_KEY,
  UNCOMMIT_INDEX_KEY,
  entryKey,
  hasPrefix,
  keyText,
  parseEntryKey,
  prefixEnd,
} from "./keys.js";
import type { RocksDb } from "./rocksdb-binding.js";
import { decodeRange, decodeU64, unseal } from "./values.js";

/** The validated durable state of a data directory. */
export interface LoadedState {
  firstIndex: number;
  lastIndex: number;
  hardState: HardState;
  confState: ConfState;
  snapshot: SnapshotMetadata;
  appliedIndex: number;
  /** Index and term just before the first entry. */
  boundary: { index: number; term: number };
  /** The entries [firstIndex, lastIndex]. */
  entries: Entry[];
}

const HINT =
  "The data directory is damaged or was not written by this program; the node must not start on it " +
  "(restore the directory from a backup, or move it away and let the node rejoin the cluster with an empty one).";

/** A Corrupt error naming the directory and the key. */
export function corruptKey(dir: string, key: Uint8Array | string, detail: string): StorageError {
  const k = typeof key === "string" ? key : keyText(key);
  return new StorageError("Corrupt", `data directory ${dir}: key ${k}: ${detail}. ${HINT}`, { dir, key: k });
}

/** Unseals and decodes one sealed value, turning every failure into Corrupt for that key. */
function decodeSealed<T>(dir: string, key: Uint8Array, value: Uint8Array, decode: (payload: Uint8Array) => T): T {
  const opened = unseal(key, value);
  if ("problem" in opened) throw corruptKey(dir, key, opened.problem);
  try {
    return decode(opened.payload);
  } catch (err) {
    if (err instanceof CodecError || err instanceof RangeError) throw corruptKey(dir, key, `does not decode: ${err.message}`);
    throw err;
  }
}

function u64(dir: string, key: Uint8Array, value: Uint8Array): number {
  return decodeSealed(dir, key, value, (p) => {
    const d = decodeU64(p);
    if ("problem" in d) throw corruptKey(dir, key, d.problem);
    return d.value;
  });
}

/** Reads and validates every /raft/ key of `db`. */
export async function loadRaftState(db: RocksDb, dir: string): Promise<LoadedState> {
  const singles = new Map<string, Buffer>();
  const byIndex = new Map<number, Entry>();
  const it = db.iterator({ gte: RAFT_PREFIX, lt: prefixEnd(RAFT_PREFIX), highWaterMark: 1024 * 1024 });
  try {
    for (;;) {
      const kv = await it.next();
      if (kv === undefined) break;
      const [key, value] = kv;
      if (hasPrefix(key, ENTRY_PREFIX)) {
        const index = parseEntryKey(key);
        if (index === undefined) throw corruptKey(dir, key, "not a valid entry key (expected /raft/entry/ and 20 digits)");
        const e = decodeSealed(dir, key, value, decodeEntry);
        if (e.index !== index) throw corruptKey(dir, key, `holds the entry of index ${e.index}, not ${index}`);
        byIndex.set(index, e);
      } else if (RAFT_KEYS.has(key.toString("latin1"))) {
        singles.set(key.toString("latin1"), value);
      } else {
        throw corruptKey(dir, key, "unknown key under /raft/");
      }
    }
  } catch (err) {
    if (err instanceof StorageError) throw err;
    throw new StorageError("Io", `data directory ${dir}: reading /raft/ failed: ${messageOf(err)}`, { dir }, { cause: err });
  } finally {
    await it.end().catch(() => undefined);
  }

  const need = (key: Buffer): Buffer => {
    const v = singles.get(key.toString("latin1"));
    if (v === undefined) throw corruptKey(dir, key, "is missing");
    return v;
  };
  const firstIndex = u64(dir, FIRST_INDEX_KEY, need(FIRST_INDEX_KEY));
  const lastIndex = u64(dir, LAST_INDEX_KEY, need(LAST_INDEX_KEY));
  const appliedIndex = u64(dir, APPLIED_INDEX_KEY, need(APPLIED_INDEX_KEY));
  const hardState = decodeSealed(dir, HARD_STATE_KEY, need(HARD_STATE_KEY), decodeHardState);
  const confState = decodeSealed(dir, CONF_STATE_KEY, need(CONF_STATE_KEY), decodeConfState);
  const snapshot = decodeSealed(dir, SNAPSHOT_KEY, need(SNAPSHOT_KEY), decodeSnapshotMetadata);
  const range = decodeSealed(dir, UNCOMMIT_INDEX_KEY, need(UNCOMMIT_INDEX_KEY), (p) => {
    const r = decodeRange(p);
    if ("problem" in r) throw corruptKey(dir, UNCOMMIT_INDEX_KEY, r.problem);
    return r;
  });

  if (firstIndex < 1) throw corruptKey(dir, FIRST_INDEX_KEY, `first index ${firstIndex} is below 1`);
  if (lastIndex < firstIndex - 1) {
    throw corruptKey(dir, LAST_INDEX_KEY, `last index ${lastIndex} is below first index ${firstIndex} - 1`);
  }
  const boundaryIndex = firstIndex - 1;
  if (snapshot.index < boundaryIndex) {
    throw corruptKey(dir, SNAPSHOT_KEY, `snapshot index ${snapshot.index} is below the compaction point ${boundaryIndex}`);
  }

  // Entries: exactly [first, last], plus optionally the boundary entry first-1.
  for (const index of byIndex.keys()) {
    if (index < boundaryIndex || index > lastIndex) {
      throw corruptKey(dir, entryKey(index), `entry outside the log [${firstIndex}, ${lastIndex}] (a torn compaction or truncation?)`);
    }
  }
  const entries: Entry[] = [];
  for (let i = firstIndex; i <= lastIndex; i++) {
    const e = byIndex.get(i);
    if (e === undefined) {
      throw corruptKey(dir, entryKey(i), `is missing: a gap in the log [${firstIndex}, ${lastIndex}] (was the raft log corrupted, truncated, or lost?)`);
    }
    entries.push(e);
  }

  let boundaryTerm: number;
  const boundaryEntry = byIndex.get(boundaryIndex);
  if (boundaryIndex === 0) {
    boundaryTerm = 0;
  } else if (snapshot.index === boundaryIndex) {
    boundaryTerm = snapshot.term;
    if (boundaryEntry !== undefined && boundaryEntry.term !== snapshot.term) {
      throw corruptKey(dir, entryKey(boundaryIndex), `term ${boundaryEntry.term} differs from the snapshot's term ${snapshot.term}`);
    }
  } else if (boundaryEntry !== undefined) {
    boundaryTerm = boundaryEntry.term;
  } else {
    throw corruptKey(dir, entryKey(boundaryIndex), `is missing: the term at the compaction point ${boundaryIndex} is unknown`);
  }
  let prevTerm = boundaryTerm;
  for (const e of entries) {
    if (e.term < prevTerm) throw corruptKey(dir, entryKey(e.index), `term ${e.term} is below the term ${prevTerm} of the entry before it`);
    prevTerm = e.term;
  }

  if (hardState.commit > lastIndex) {
    throw corruptKey(dir, HARD_STATE_KEY, `commit ${hardState.commit} is beyond the last index ${lastIndex}`);
  }
  if (snapshot.index > hardState.commit) {
    throw corruptKey(dir, SNAPSHOT_KEY, `snapshot index ${snapshot.index} is beyond the commit index ${hardState.commit}`);
  }
  if (appliedIndex > hardState.commit) {
    throw corruptKey(dir, APPLIED_INDEX_KEY, `applied index ${appliedIndex} is beyond the commit index ${hardState.commit}`);
  }
  if (range.commit !== hardState.commit || range.last !== lastIndex) {
    throw corruptKey(
      dir,
      UNCOMMIT_INDEX_KEY,
      `range (${range.commit}, ${range.last}] disagrees with commit ${hardState.commit} and last index ${lastIndex}`,
    );
  }
  return {
    firstIndex,
    lastIndex,
    hardState,
    confState,
    snapshot,
    appliedIndex,
    boundary: { index: boundaryIndex, term: boundaryTerm },
    entries,
  };
}
