// Errors of the Raft core, in two kinds that are never mixed (STYLE 7.6):
//
// - RaftError: an expected outcome at an API (a proposal that cannot be taken, a compacted
//   index, an unknown peer). Callers branch on `code`.
// - RaftInvariantError: a broken invariant, i.e. a bug or corrupted/lost storage. It carries
//   every number involved. It is never caught and logged away: the node must stop.
//
// This file must not import anything but the types it describes.

/** Codes of the expected outcomes. */
export type RaftErrorCode =
  /** The requested index is below the first index still in the log (it was compacted). */
  | "Compacted"
  /** The requested index is above the last index (not available yet). */
  | "Unavailable"
  /** A snapshot older than the one already applied/stored was offered. */
  | "SnapshotOutOfDate"
  /** The storage cannot produce a snapshot right now; the leader retries later. */
  | "SnapshotTemporarilyUnavailable"
  /** The proposal was not accepted (no leader known, transfer in flight, not in config...). */
  | "ProposalDropped"
  /** A local-only message type was handed to step() as if it came from the network. */
  | "StepLocalMsg"
  /** A response came from a peer that is not in the configuration. */
  | "StepPeerNotFound"
  /** The configuration or arguments given to the core are invalid. */
  | "InvalidConfig";

export class RaftError extends Error {
  override readonly name = "RaftError";
  constructor(
    readonly code: RaftErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Whether `err` is a RaftError with the given code. */
export function isRaftError(err: unknown, code?: RaftErrorCode): err is RaftError {
  return err instanceof RaftError && (code === undefined || err.code === code);
}

/**
 * A broken invariant: the log, the storage or the caller violated a rule the core relies on.
 * The message lists every number involved and, where it helps, a hint such as
 * "Was the raft log corrupted, truncated, or lost?".
 */
export class RaftInvariantError extends Error {
  override readonly name = "RaftInvariantError";
}
