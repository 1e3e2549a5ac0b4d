// The public surface of the Raft core, by explicit named exports (no `export *`).
//
// The core is a deterministic state machine: no I/O, no timers, no clock, no global
// randomness (boundaries.test.ts enforces it).
// A driver (runtime/node) feeds it ticks and messages and acts on its Ready.

// ---- for applications and drivers ----
export { RawNode, isEmptyReady } from "./raw-node.js";
export type { Ready, SnapshotStatus } from "./raw-node.js";
export type { Config } from "./config.js";
export { MemoryStorage, limitSize } from "./storage.js";
export type { Storage, RaftState } from "./storage.js";
export { RaftError, RaftInvariantError, isRaftError } from "./errors.js";
export type { RaftErrorCode } from "./errors.js";
export { SeededRandom } from "./rand.js";
export type { RandomSource } from "./rand.js";
export { discardLogger, levelLogger } from "./logger.js";
export type { Logger, LogLevel } from "./logger.js";
export type { Status, PeerProgress } from "./status.js";
export type { ReadOnlyOption } from "./read-only.js";
export {
  ConfChangeType,
  EMPTY_BYTES,
  EMPTY_HARD_STATE,
  EntryType,
  MessageType,
  confChangeTypeName,
  entrySize,
  entryTypeName,
  hardStateEqual,
  isEmptyHardState,
  isEmptySnapshot,
  isLocalMessage,
  isResponseMessage,
  messageTypeName,
  newEntry,
  newMessage,
  payloadSize,
} from "./types.js";
export type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  ReadState,
  Snapshot,
  SnapshotMetadata,
  SoftState,
  StateRole,
} from "./types.js";

// ---- for tools, tests and the simulator ----
export { encodeConfChange, decodeConfChange } from "./confchange-codec.js";
export {
  describeBytes,
  describeConfState,
  describeEntries,
  describeEntry,
  describeHardState,
  describeMessage,
  describeReadState,
  describeReady,
  describeSnapshot,
  describeSoftState,
} from "./describe.js";
export { committedIndex, voteResult } from "./quorum/majority.js";
export type { VoteResult } from "./quorum/majority.js";
