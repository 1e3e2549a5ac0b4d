// Errors of the linearizability tooling.
//
// Only one kind exists here: bad input from outside (STYLE 7.6), i.e. a history file or record
// that cannot be read. It carries a code callers can branch on and, when the input came from a
// file, the 1-based line, so the CLI can print `file:line: message`. A history that is readable
// but not linearizable is not an error: it is the checker's verdict.
//
// This file must not import anything.

/** Why a history could not be read. */
export type HistoryParseErrorCode =
  /** The text is not valid for the format (a bad token, bad EDN/JSON, a missing field). */
  | "syntax"
  /** A completion (`:ok`, `:fail`, `:info`) for a client with no open operation. */
  | "unmatched-completion"
  /** An invocation by a client whose previous operation is still open. */
  | "overlapping-invocation"
  /** A completion whose operation name differs from its invocation's. */
  | "mismatched-completion"
  /** A well-formed record that the chosen model cannot interpret (wrong value types). */
  | "invalid-operation"
  /** The input holds no operations at all (for the text formats), or an unknown format. */
  | "no-operations"
  /** The document declares a format or version this reader does not know. */
  | "unsupported-format";

export class HistoryParseError extends Error {
  override readonly name = "HistoryParseError";
  constructor(
    readonly code: HistoryParseErrorCode,
    /** The message without the line prefix. */
    readonly detail: string,
    /** 1-based line in the source, when known. */
    readonly line?: number,
    options?: { cause?: unknown },
  ) {
    super(line === undefined ? detail : `line ${line}: ${detail}`, options);
  }
}

/** Whether `err` is a HistoryParseError (with the given code, if any). */
export function isHistoryParseError(
  err: unknown,
  code?: HistoryParseErrorCode,
): err is HistoryParseError {
  return err instanceof HistoryParseError && (code === undefined || err.code === code);
}
