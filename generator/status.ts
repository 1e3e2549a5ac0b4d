// A cluster's status as rows, one per endpoint: what `raftgen status` prints (a table, or JSON
// with the same rows) and what `raftgen cluster` condenses into its live line.
//
// collectStatus asks every endpoint's admin Status in parallel, each bounded by a deadline and
// never retried; an endpoint that does not answer is a row saying why, not a failure. Lag is
// measured against the leader's last index when a leader answered (else the highest commit
// index any node reported) minus the node's applied index. Health is the first that applies:
// "unreachable: <reason>", "no leader" (the node knows of none), "lagging" (lag above
// `lagThreshold`), "ok".
//
// Formatting is pure; collectStatus does network I/O only (gRPC to the endpoints).

import { RaftClient } from "../runtime/client/index.js";
import { isNodeError } from "../runtime/node/errors.js";

/** One endpoint's status. Fields a node did not report (unreachable) are null. */
export interface StatusRow {
  /** The node's id (null when it did not answer, unless the caller named it: CollectOptions.ids). */
  node: number | null;
  /** The endpoint as given (host:port). */
  address: string;
  /** leader, follower, candidate or pre-candidate. */
  role: string | null;
  term: number | null;
  /** The leader's id as this node knows it (0 = none known). */
  leader: number | null;
  commit: number | null;
  applied: number | null;
  lastIndex: number | null;
  /** Entries this node has still to apply: the leader's last index (or the highest commit) minus its applied index. */
  lag: number | null;
  /** Index of the latest snapshot in the node's storage (0 = none). */
  snapshotIndex: number | null;
  /** ok, "unreachable: <reason>", "no leader" or "lagging". */
  health: string;
}

/** Keys of a StatusRow in output order (the table's columns, the JSON's keys). */
export const STATUS_KEYS = ["node", "address", "role", "term", "leader", "commit", "applied", "lastIndex", "lag", "snapshotIndex", "health"] as const;

export interface CollectOptions {
  /** Deadline of each endpoint's answer (default 3000 ms). */
  timeoutMs?: number;
  /** A node whose lag is above this many entries is "lagging" (default 1000). */
  lagThreshold?: number;
  /** The node id expected at each endpoint (same order), shown for endpoints that do not answer. */
  ids?: readonly (number | undefined)[];
}

export const DEFAULT_STATUS_TIMEOUT_MS = 3_000;
export const DEFAULT_LAG_THRESHOLD = 1_000;

/** What admin Status returns (64-bit values as decimal strings, as RaftClient decodes them). */
export interface StatusReply {
  id: string;
  role: string;
  term: string;
  leader: string;
  commit: string;
  applied: string;
  last_index: string;
  snapshot_index?: string;
}

const ROLES: Readonly<Record<string, string>> = { Leader: "leader", Follower: "follower", Candidate: "candidate", PreCandidate: "pre-candidate" };

/** Why a Status call failed, in a few words. */
function reasonOf(err: unknown, timeoutMs: number): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/ECONNREFUSED/.test(message)) return "connection refused";
  if (/ENOTFOUND|EAI_AGAIN|Name resolution/i.test(message)) return "unknown host";
  if (/EHOSTUNREACH|ENETUNREACH/.test(message)) return "host unreachable";
  if (isNodeError(err, "Timeout")) return `no answer within ${timeoutMs} ms`;
  if (/^UNIMPLEMENTED\b/.test(message)) return `not a raftgen node (${message.replace(/\s+/g, " ")})`;
  if (isNodeError(err)) return `${err.code}: ${message.replace(/\s+/g, " ")}`;
  return message.replace(/\s+/g, " ");
}

const num = (v: string | undefined): number => {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
};

/**
 * Ask every endpoint for its status, in parallel; resolves with one row per endpoint, in the
 * order given (never rejects for an endpoint that fails).
 */
export async function collectStatus(endpoints: string[], opts: CollectOptions = {}): Promise<StatusRow[]> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_STATUS_TIMEOUT_MS;
  if (endpoints.length === 0) return [];
  const client = new RaftClient({ endpoints, deadlineMs: timeoutMs, session: false });
  let replies: ({ ok: StatusReply } | { error: string })[];
  try {
    replies = await Promise.all(
      endpoints.map((endpoint) =>
        client.admin("Status", {}, { endpoint }).then(
          (r) => ({ ok: r as StatusReply }),
          (err: unknown) => ({ error: reasonOf(err, timeoutMs) }),
        ),
      ),
    );
  } finally {
    client.close();
  }
  return statusRows(endpoints, replies, opts);
}

/**
 * The rows of the given answers (`ok`: the Status reply, `error`: why the endpoint did not
 * answer), one per endpoint in the same order: lag and health computed as the file comment says.
 */
export function statusRows(endpoints: readonly string[], replies: readonly ({ ok: StatusReply } | { error: string })[], opts: Omit<CollectOptions, "timeoutMs"> = {}): StatusRow[] {
  const lagThreshold = opts.lagThreshold ?? DEFAULT_LAG_THRESHOLD;
  const answered = replies.flatMap((r) => ("ok" in r ? [r.ok] : []));
  // A deposed leader that has not heard of the new term yet may still say Leader: the highest term wins.
  const leader = answered.filter((r) => r.role === "Leader").sort((a, b) => num(b.term) - num(a.term))[0];
  const reference = leader ? num(leader.last_index) : Math.max(0, ...answered.map((r) => num(r.commit)));
  return replies.map((r, i): StatusRow => {
    const address = endpoints[i] ?? "";
    if ("error" in r) {
      const id = opts.ids?.[i];
      return {
        node: id ?? null,
        address,
        role: null,
        term: null,
        leader: null,
        commit: null,
        applied: null,
        lastIndex: null,
        lag: null,
        snapshotIndex: null,
        health: `unreachable: ${r.error}`,
      };
    }
    const s = r.ok;
    const applied = num(s.applied);
    const lag = Math.max(0, reference - applied);
    const leaderId = num(s.leader);
    return {
      node: num(s.id),
      address,
      role: ROLES[s.role] ?? s.role.toLowerCase(),
      term: num(s.term),
      leader: leaderId,
      commit: num(s.commit),
      applied,
      lastIndex: num(s.last_index),
      lag,
      snapshotIndex: num(s.snapshot_index),
      health: leaderId === 0 ? "no leader" : lag > lagThreshold ? "lagging" : "ok",
    };
  });
}

const HEADERS: Readonly<Record<(typeof STATUS_KEYS)[number], string>> = {
  node: "node",
  address: "address",
  role: "role",
  term: "term",
  leader: "leader",
  commit: "commit",
  applied: "applied",
  lastIndex: "last index",
  lag: "lag",
  snapshotIndex: "snapshot index",
  health: "health",
};

const NUMERIC = new Set<string>(["node", "term", "leader", "commit", "applied", "lastIndex", "lag", "snapshotIndex"]);

/** The rows as an aligned text table (header first; numbers right-aligned; "-" for unknown; ends with a newline). */
export function formatStatusTable(rows: readonly StatusRow[]): string {
  const cells = rows.map((row) => STATUS_KEYS.map((k) => (row[k] === null ? "-" : String(row[k]))));
  const header = STATUS_KEYS.map((k) => HEADERS[k]);
  const widths = STATUS_KEYS.map((_, c) => Math.max(header[c]!.length, ...cells.map((r) => r[c]!.length)));
  const line = (values: string[], isHeader: boolean) =>
    values
      .map((v, c) => {
        if (c === values.length - 1) return v;
        return !isHeader && NUMERIC.has(STATUS_KEYS[c]!) ? v.padStart(widths[c]!) : v.padEnd(widths[c]!);
      })
      .join("  ")
      .trimEnd();
  return [line(header, true), ...cells.map((r) => line(r, false))].map((l) => `${l}\n`).join("");
}

/**
 * One line for a live display: the leader (id and address, or "no leader"), the highest term,
 * the leader's commit and applied indexes (the highest reported when there is no leader), and
 * each node's lag (`down` for one that did not answer):
 * `leader 2 (127.0.0.1:7002)  term 3  commit 120  applied 120  lag 1:0 2:0 3:down`.
 */
export function formatStatusLine(rows: readonly StatusRow[]): string {
  const up = rows.filter((r) => r.term !== null);
  if (up.length === 0) return `no node answers (${rows.length} endpoint${rows.length === 1 ? "" : "s"})`;
  const leader = up.filter((r) => r.role === "leader").sort((a, b) => (b.term ?? 0) - (a.term ?? 0))[0];
  const max = (f: (r: StatusRow) => number | null) => Math.max(...up.map((r) => f(r) ?? 0));
  const parts = [
    leader ? `leader ${leader.node} (${leader.address})` : "no leader",
    `term ${max((r) => r.term)}`,
    `commit ${leader ? leader.commit : max((r) => r.commit)}`,
    `applied ${leader ? leader.applied : max((r) => r.applied)}`,
  ];
  const lags = rows.map((r) => `${r.node ?? r.address}:${r.lag === null ? "down" : r.lag}`);
  return `${parts.join("  ")}  lag ${lags.join(" ")}`;
}

/**
 * The endpoints of `--endpoints a:1,b:2` (the flag may be repeated): trimmed, duplicates
 * dropped, each host:port (a bracketed IPv6 host allowed) with a port in 1..65535. Returns an
 * error message for the first bad one.
 */
export function parseEndpoints(values: readonly string[]): { endpoints: string[] } | { error: string } {
  const endpoints: string[] = [];
  for (const value of values) {
    for (const raw of value.split(",")) {
      const e = raw.trim();
      if (e === "") continue;
      const m = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]/]+):(\d{1,5})$/.exec(e);
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 65_535) return { error: `bad endpoint ${JSON.stringify(e)}: expected host:port` };
      if (!endpoints.includes(e)) endpoints.push(e);
    }
  }
  if (endpoints.length === 0) return { error: "--endpoints names no endpoint" };
  return { endpoints };
}

/** A --timeout-ms value: a positive integer number of milliseconds, or an error message. */
export function parseTimeoutMs(value: string | undefined, fallback: number): { timeoutMs: number } | { error: string } {
  if (value === undefined) return { timeoutMs: fallback };
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) return { error: `--timeout-ms must be a positive integer, got ${JSON.stringify(value)}` };
  return { timeoutMs: Number(value) };
}
