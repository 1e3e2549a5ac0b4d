// The three states of a follower's Progress as the leader tracks it.
//
// - Probe: the leader does not know the follower's last index; it sends at most one
//   MsgAppend per heartbeat interval, probing backwards on rejection.
// - Replicate: the follower is known to match up to `match`; the leader streams appends
//   optimistically, limited by the inflight window.
// - Snapshot: the follower needs a snapshot; the leader sends nothing else until the
//   snapshot is reported done or failed.
//
// This file must not import anything.

export type ProgressState = "Probe" | "Replicate" | "Snapshot";
