// ClusterError: why `raftgen cluster` (LocalCluster.start and friends) could not do what it was
// asked, as a message for a user, never a stack trace. `kind` tells the command its exit code:
// "usage" (bad arguments, unreadable input, a data directory made for another cluster shape)
// is 2; everything else is 1.

export type ClusterErrorKind =
  /** Bad arguments or unreadable input. */
  | "usage"
  /** The spec has problems (`diagnostics` holds the file:line:col lines). */
  | "spec"
  /** The project's TypeScript has syntax errors (`diagnostics`). */
  | "compile"
  /** A port the cluster needs is taken. */
  | "port"
  /** A node did not start (exited early, refused its data directory, or printed no ready line). */
  | "start"
  /** The cluster was stopped, or the operation makes no sense in its state. */
  | "state";

export class ClusterError extends Error {
  override readonly name = "ClusterError";
  constructor(
    readonly kind: ClusterErrorKind,
    message: string,
    /** Formatted diagnostics (spec or compile errors), each line `file:line:col: message`. */
    readonly diagnostics?: string,
  ) {
    super(message);
  }

  /** The exit code of `raftgen cluster` for this error. */
  get exitCode(): number {
    return this.kind === "usage" ? 2 : 1;
  }
}
