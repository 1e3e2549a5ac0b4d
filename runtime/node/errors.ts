// The typed errors of a node's public API (DESIGN: Errors and bad input; STYLE 7.6).
// Callers branch on `code`; runtime/server maps codes to gRPC status codes and the client
// rebuilds the same classes from them.
//
// This file must not import anything but types.

/** Codes of the expected failures of propose / query / admin calls. */
export type NodeErrorCode =
  /** This node is not the leader and cannot serve the call; `leaderId`/`leaderAddress` hint at who is. */
  | "NotLeader"
  /** The call did not finish before its deadline. Outcome unknown: it may still be applied. */
  | "Timeout"
  /** The proposal was definitely not committed (its log slot went to another entry). */
  | "Dropped"
  /** The command's handler threw: the command failed on every node and changed nothing. */
  | "CommandFailed"
  /** The request is malformed (unknown command, bad payload, bad arguments). */
  | "InvalidArgument"
  /** The request is valid but cannot be done in the current state (e.g. promote a lagging learner). */
  | "FailedPrecondition"
  /** The node is stopping or stopped. */
  | "Stopped";

export class NodeError extends Error {
  override readonly name = "NodeError";
  constructor(
    readonly code: NodeErrorCode,
    message: string,
    readonly details: { leaderId?: number; leaderAddress?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isNodeError(err: unknown, code?: NodeErrorCode): err is NodeError {
  return err instanceof NodeError && (code === undefined || err.code === code);
}

/**
 * The node cannot go on: storage failed, or the data directory is corrupt. It stops; this
 * error says why.
 */
export class NodeFatalError extends Error {
  override readonly name = "NodeFatalError";
}
