// Majority quorums: the commit index a majority has acknowledged, and the outcome of a vote.
//
// This file must not import raft.ts or tracker/ (STYLE 7.1): it works on plain ids and
// numbers, so it can be checked against a naive model in isolation.

/** Scratch space of committedIndex (single-threaded, never escapes a call). */
const scratch: number[] = new Array<number>(16).fill(0);

/** Outcome of a vote. */
export type VoteResult = "Pending" | "Lost" | "Won";

/**
 * The largest index that a majority of `voters` has acknowledged. `acked(id)` returns the
 * acknowledged index of a voter, or undefined when unknown (counted as 0). With no voters,
 * the result is +Infinity (an empty config commits anything; joint configs rely on it).
 */
export function committedIndex(voters: readonly number[], acked: (id: number) => number | undefined): number {
  const n = voters.length;
  if (n === 0) return Number.POSITIVE_INFINITY;
  // Insertion sort into a reused buffer: clusters are small, and Array.prototype.sort
  // allocates on every call (this runs once per acknowledgement on the leader).
  const srt = n <= scratch.length ? scratch : new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const v = acked(voters[i]!) ?? 0;
    let j = i - 1;
    for (; j >= 0 && srt[j]! > v; j--) srt[j + 1] = srt[j]!;
    srt[j + 1] = v;
  }
  // With n voters sorted ascending, the value at n - (n/2 + 1) is acked by a majority.
  return srt[n - (Math.floor(n / 2) + 1)]!;
}

/**
 * The outcome of a vote among `voters`, given who granted (true) or rejected (false);
 * missing voters have not answered yet. An empty config wins (by convention).
 */
export function voteResult(voters: readonly number[], votes: ReadonlyMap<number, boolean>): VoteResult {
  if (voters.length === 0) return "Won";
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = Math.floor(voters.length / 2) + 1;
  if (granted >= q) return "Won";
  if (granted + missing >= q) return "Pending";
  return "Lost";
}
