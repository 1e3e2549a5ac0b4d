// Human-readable text of checker results, shared by the CLI and by tests that want to print a
// failure.
//
// The explanation of a failing partition names the shortest prefix of its history that has no
// linearization (it ends with the completion of the "stuck" operation), the longest partial
// linearization the search found, the state it led to, and the operations that were pending
// at that point. Lines are capped in length and count so a 2 000-operation history still gives
// a short report.
//
// This file must not decide anything (it only formats a CheckResult) and must not do I/O.

import type { CheckResult, Failure, PartitionResult } from "./checker.js";
import type { Model, Operation } from "./model.js";

/** Options of `describeCheckResult`. */
export interface DescribeOptions {
  /** The time budget the check ran with, to mention it for timed-out partitions. */
  readonly timeoutMs?: number;
  /** Dropped records, from `checkHistory`. */
  readonly dropped?: number;
  /** Maximum operations listed per section. Default 6. */
  readonly maxListed?: number;
}

const MAX_LINE = 160;

/** The verdict word(s) as the CLI prints them. */
export function verdictText(verdict: CheckResult<unknown, unknown, unknown>["verdict"]): string {
  return verdict === "not-linearizable" ? "not linearizable" : verdict;
}

/**
 * A multi-line report: the verdict on the first line, then a summary and, for a failure, the
 * explanation of the first failing partition; for `unknown`, the partitions left undecided.
 * Ends with a newline.
 */
export function describeCheckResult<State, Input, Output>(
  model: Model<State, Input, Output>,
  result: CheckResult<State, Input, Output>,
  options: DescribeOptions = {},
): string {
  const lines: string[] = [verdictText(result.verdict)];
  const ops = result.partitions.reduce((n, p) => n + p.operations, 0);
  const dropped = options.dropped ? ` (+${options.dropped} dropped: failed operations, indeterminate reads)` : "";
  const parts = result.partitions.length;
  lines.push(
    `model ${model.name}: ${ops} operations${dropped} in ${parts} partition${parts === 1 ? "" : "s"}, ` +
      `${result.steps} search steps, ${Math.round(result.elapsedMs)} ms`,
  );
  if (result.failed !== undefined && result.failed.failure !== undefined) {
    const skipped = result.partitions.filter((p) => p.unknownReason === "skipped").length;
    if (skipped > 0) {
      lines.push(`stopped at the first failing partition; ${skipped} other${skipped === 1 ? " was" : "s were"} not finished`);
    }
    lines.push(...describeFailure(model, result.failed, result.failed.failure, options.maxListed ?? 6));
  } else if (result.verdict === "unknown") {
    for (const p of result.partitions) {
      if (p.verdict !== "unknown") continue;
      const why =
        p.unknownReason === "timeout"
          ? `search stopped at the time budget${options.timeoutMs === undefined ? "" : ` (${options.timeoutMs} ms)`}`
          : p.unknownReason === "memory"
            ? "search dropped when its memo outgrew the configuration limit"
            : "not finished";
      lines.push(`${partitionName(p)} (${p.operations} operations): unknown, ${why} after ${p.steps} steps`);
    }
  }
  return lines.map((l) => clip(l)).join("\n") + "\n";
}

/** `key "7"` or `history` (unpartitioned). */
export function partitionName(p: { readonly key: string | undefined }): string {
  return p.key === undefined ? "history" : `key ${JSON.stringify(p.key)}`;
}

function describeFailure<State, Input, Output>(
  model: Model<State, Input, Output>,
  p: PartitionResult<State, Input, Output>,
  f: Failure<State, Input, Output>,
  maxListed: number,
): string[] {
  const op = (o: Operation<Input, Output>): string => describeOperationLine(model, o);
  const end =
    f.stuck.returnLine === undefined
      ? "the history up to the completion of this operation"
      : `the history up to line ${f.stuck.returnLine}, where this operation completes`;
  const out = [
    `${partitionName(p)} (${p.operations} operations): no linearization exists for ${end}:`,
    `  ${op(f.stuck)}`,
    `  longest partial linearization found: ${f.linearized.length} operations, leaving state ${model.describeState(f.state)}`,
  ];
  const tail = f.linearized.slice(-Math.min(maxListed, 3));
  if (tail.length > 0) {
    out.push(`  its last ${tail.length === 1 ? "operation" : `${tail.length} operations`}:`);
    for (const o of tail) out.push(`    ${op(o)}`);
  }
  const others = f.pending.filter((o) => o !== f.stuck);
  if (others.length > 0) {
    out.push(`  pending then, none of which can be placed next: ${others.length} operations`);
    for (const o of others.slice(0, maxListed)) out.push(`    ${op(o)}`);
    if (others.length > maxListed) out.push(`    ... and ${others.length - maxListed} more`);
  }
  return out;
}

/** `client 3: cas(1, 2) -> ok  [lines 10-14]`. */
export function describeOperationLine<Input, Output>(
  model: Model<unknown, Input, Output>,
  o: Operation<Input, Output>,
): string {
  let where = "";
  if (o.line !== undefined) {
    where =
      o.returnLine === undefined || o.returnLine === o.line
        ? `  [line ${o.line}${o.output === undefined ? ", indeterminate" : ""}]`
        : `  [lines ${o.line}-${o.returnLine}${o.output === undefined ? ", indeterminate" : ""}]`;
  }
  return `client ${o.client}: ${clip(model.describeOperation(o.input, o.output), 100)}${where}`;
}

function clip(s: string, max = MAX_LINE): string {
  return s.length <= max ? s : `${s.slice(0, max - 3)}...`;
}
