// Config: everything a Raft node is parameterised by, with its defaults and validation.
//
// Time is measured in ticks only (the driver calls tick() every tickMs); randomness comes in
// through `rand`. Byte sizes carry their unit in the name.
//
// This file must not do I/O.

import { RaftError } from "./errors.js";
import { discardLogger, type Logger } from "./logger.js";
import type { RandomSource } from "./rand.js";
import type { ReadOnlyOption } from "./read-only.js";

export interface Config {
  /** This node's id; never 0. */
  id: number;
  /**
   * Ticks without hearing from a leader after which a follower campaigns. The actual timeout
   * is randomized in [electionTick, 2*electionTick) (Raft §5.2). Must exceed heartbeatTick;
   * 10 × heartbeatTick is the usual choice.
   */
  electionTick: number;
  /** Ticks between the leader's heartbeats. */
  heartbeatTick: number;
  /** The seeded random source for election jitter: the core's only source of randomness. */
  rand: RandomSource;
  /**
   * The last applied index, when restarting. Entries up to it are not handed out again.
   * Default: 0 (everything committed is re-applied), or the snapshot index if larger.
   */
  applied?: number;
  /** Maximum payload bytes of one MsgAppend (at least one entry is always sent). Default 1 MiB. */
  maxSizePerMsg?: number;
  /** Maximum bytes of committed entries handed out in one Ready. Default: maxSizePerMsg × 64. */
  maxCommittedSizePerReady?: number;
  /**
   * Maximum payload bytes of proposed entries not yet committed on the leader; proposals
   * beyond it are dropped (flow control against an unavailable quorum). 0 = unlimited.
   */
  maxUncommittedEntriesSize?: number;
  /** Maximum MsgAppend messages in flight per follower in Replicate state. Default 256. */
  maxInflightMsgs?: number;
  /** Maximum payload bytes in flight per follower; 0 = unlimited. Default 0. */
  maxInflightBytes?: number;
  /**
   * The leader steps down when a quorum has not been heard from for an election timeout,
   * and followers ignore vote requests while they hear from a leader (leader lease).
   */
  checkQuorum?: boolean;
  /** Run a pre-vote round before incrementing the term (thesis §9.6). */
  preVote?: boolean;
  /** How ReadIndex is served: "safe" (heartbeat round) or "lease-based" (needs checkQuorum). */
  readOnlyOption?: ReadOnlyOption;
  /** Followers drop proposals instead of forwarding them to the leader. */
  disableProposalForwarding?: boolean;
  /** A leader removed from the configuration steps down when it applies that change. Default true. */
  stepDownOnRemoval?: boolean;
  logger?: Logger;
}

/** Config with every default filled in. */
export type ResolvedConfig = Required<Config>;

export function resolveConfig(c: Config): ResolvedConfig {
  const maxSizePerMsg = c.maxSizePerMsg ?? 1024 * 1024;
  const r: ResolvedConfig = {
    id: c.id,
    electionTick: c.electionTick,
    heartbeatTick: c.heartbeatTick,
    rand: c.rand,
    applied: c.applied ?? 0,
    maxSizePerMsg,
    maxCommittedSizePerReady: c.maxCommittedSizePerReady ?? maxSizePerMsg * 64,
    maxUncommittedEntriesSize: c.maxUncommittedEntriesSize ?? 0,
    maxInflightMsgs: c.maxInflightMsgs ?? 256,
    maxInflightBytes: c.maxInflightBytes ?? 0,
    checkQuorum: c.checkQuorum ?? false,
    preVote: c.preVote ?? false,
    readOnlyOption: c.readOnlyOption ?? "safe",
    disableProposalForwarding: c.disableProposalForwarding ?? false,
    stepDownOnRemoval: c.stepDownOnRemoval ?? true,
    logger: c.logger ?? discardLogger,
  };
  const bad = (msg: string) => new RaftError("InvalidConfig", msg);
  if (!Number.isSafeInteger(r.id) || r.id <= 0) throw bad(`cannot use ${r.id} as id`);
  if (!Number.isSafeInteger(r.heartbeatTick) || r.heartbeatTick <= 0) throw bad("heartbeat tick must be greater than 0");
  if (!Number.isSafeInteger(r.electionTick) || r.electionTick <= r.heartbeatTick) {
    throw bad("election tick must be greater than heartbeat tick");
  }
  if (!Number.isSafeInteger(r.maxInflightMsgs) || r.maxInflightMsgs <= 0) throw bad("max inflight messages must be greater than 0");
  if (r.maxInflightBytes < 0) throw bad("max inflight bytes must be >= 0");
  if (r.maxInflightBytes > 0 && r.maxInflightBytes < r.maxSizePerMsg) {
    throw bad("max inflight bytes must be >= max message size");
  }
  if (r.readOnlyOption === "lease-based" && !r.checkQuorum) {
    throw bad("checkQuorum must be enabled when readOnlyOption is lease-based");
  }
  if (typeof r.rand?.intn !== "function") throw bad("config.rand must be a RandomSource");
  return r;
}
