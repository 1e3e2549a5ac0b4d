// The one-line live status of a local cluster (`raftgen cluster` prints it about once a
// second): leader, term, commit, the leader's applied index, and each node's role and lag
// (the highest commit any node reports minus what that node applied), or why a node does
// not answer.
//
//   leader 1  term 2  commit 57  applied 57 | 1 leader lag 0 | 2 follower lag 0 | 3 down (signal SIGKILL)
//
// It reads each running node's HTTP /status (runtime/server/http.ts) with a short deadline.
// statusLine() is the only entry point the command uses, so it can switch to the shared
// status collector (generator/status.ts) without other changes. Never throws.

/** What the line needs to know of a node (LocalCluster's NodeInfo has it). */
export interface StatusLineNode {
  id: number;
  httpAddress: string;
  running: boolean;
  exit?: { code: number | null; signal: string | null };
}

/** The parts of a node's /status this module reads. */
export interface NodeHttpStatus {
  id: number;
  hardState: { term: number; commit: number };
  softState: { leaderId: number; raftState: string };
  applied: number;
  lastIndex: number;
  fatal?: string;
}

/** GET http://<address>/status; undefined when the node does not answer in time. */
export async function readNodeStatus(httpAddress: string, timeoutMs = 800): Promise<NodeHttpStatus | undefined> {
  try {
    const res = await fetch(`http://${httpAddress}/status`, { signal: AbortSignal.timeout(timeoutMs) });
    if (res.status !== 200) return undefined;
    return (await res.json()) as NodeHttpStatus;
  } catch {
    return undefined;
  }
}

export interface StatusLine {
  line: string;
  /** The leader the nodes agree on at the highest term, if any. */
  leader: number | undefined;
  /** Ids of the nodes not answering (down or unresponsive). */
  down: number[];
}

const ROLE: Readonly<Record<string, string>> = {
  Leader: "leader",
  Follower: "follower",
  Candidate: "candidate",
  PreCandidate: "pre-candidate",
};

function exitText(e: StatusLineNode["exit"]): string {
  if (!e) return "down";
  return e.signal ? `down (signal ${e.signal})` : `down (exit ${e.code})`;
}

/** Build the status line of `nodes` (in id order). */
export async function statusLine(nodes: readonly StatusLineNode[], timeoutMs = 800): Promise<StatusLine> {
  const sorted = [...nodes].sort((a, b) => a.id - b.id);
  const st = await Promise.all(sorted.map((n) => (n.running ? readNodeStatus(n.httpAddress, timeoutMs) : Promise.resolve(undefined))));
  const answered = st.filter((s): s is NodeHttpStatus => s !== undefined);
  const term = Math.max(0, ...answered.map((s) => s.hardState.term));
  const commit = Math.max(0, ...answered.map((s) => s.hardState.commit));
  const leaders = answered.filter((s) => s.softState.raftState === "Leader" && s.hardState.term === term);
  const leader = leaders.length === 1 ? leaders[0]!.id : undefined;
  const applied = leader !== undefined ? leaders[0]!.applied : Math.max(0, ...answered.map((s) => s.applied));
  const head = `${leader !== undefined ? `leader ${leader}` : "no leader"}  term ${term}  commit ${commit}  applied ${applied}`;
  const down: number[] = [];
  const parts = sorted.map((n, i) => {
    const s = st[i];
    if (!n.running) {
      down.push(n.id);
      return `${n.id} ${exitText(n.exit)}`;
    }
    if (!s) {
      down.push(n.id);
      return `${n.id} not answering`;
    }
    if (s.fatal) return `${n.id} stopped itself`;
    return `${n.id} ${ROLE[s.softState.raftState] ?? s.softState.raftState.toLowerCase()} lag ${Math.max(0, commit - s.applied)}`;
  });
  return { line: [head, ...parts].join(" | "), leader, down };
}
