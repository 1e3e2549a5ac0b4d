// `raftgen status` against real NodeServers in this process (3 nodes, RocksDB in mkdtemp, gRPC
// on 127.0.0.1): the table and --json with every node up, with an endpoint nobody listens on,
// with no endpoint answering; usage errors; and the pure pieces (rows, table, live line).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServiceClient } from "raftgen/runtime/codegen-v1";
import { statusCommand } from "../../generator/status-command.js";
import { type StatusReply, type StatusRow, STATUS_KEYS, collectStatus, formatStatusLine, formatStatusTable, parseEndpoints, statusRows } from "../../generator/status.js";
import { waitFor } from "../cluster/harness.js";
import { type TestCluster, captureIO, closedEndpoint, compileStore, startStoreCluster } from "./cli-cluster.js";

describe("raftgen status on a running cluster", () => {
  let cluster: TestCluster;
  let closed: string;

  beforeAll(async () => {
    // Snapshots every 20 entries, so that the snapshot index column has something to show.
    cluster = await startStoreCluster(3, { snapshotEntries: 20, catchUpEntries: 5 });
    closed = await closedEndpoint();
    await cluster.waitForLeader();
    const client = new ServiceClient(compileStore().service, { endpoints: cluster.endpoints, deadlineMs: 10_000 });
    try {
      for (let i = 0; i < 30; i++) await client.command("remove", { name: `k${i}` });
    } finally {
      client.close();
    }
    // Every node has applied everything and taken a snapshot.
    await waitFor("every node caught up", () => {
      const commit = cluster.leader()?.node.status().hardState.commit ?? 0;
      return commit >= 30 && cluster.servers.every((s) => s.node.status().applied >= commit && s.node.status().snapshotIndex > 0);
    });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it("prints a table with a row per node, one leader, every node healthy", async () => {
    const io = captureIO();
    const code = await statusCommand(["--endpoints", cluster.endpoints.join(",")], io);
    expect(io.err).toBe("");
    expect(code).toBe(0);
    const lines = io.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^node\s+address\s+role\s+term\s+leader\s+commit\s+applied\s+last index\s+lag\s+snapshot index\s+health$/);
    expect(lines).toHaveLength(4);
    const leaderId = cluster.leader()!.node.id;
    for (const [i, server] of cluster.servers.entries()) {
      const line = lines[i + 1]!;
      expect(line).toContain(server.grpcAddress);
      expect(line).toMatch(server.node.id === leaderId ? /\bleader\b/ : /\bfollower\b/);
      expect(line.endsWith("ok")).toBe(true);
    }
  });

  it("--json prints the same rows with stable keys", async () => {
    const io = captureIO();
    const code = await statusCommand(["--endpoints", cluster.endpoints.join(","), "--json"], io);
    expect(code).toBe(0);
    const rows = JSON.parse(io.out) as StatusRow[];
    expect(rows).toHaveLength(3);
    const leaderId = cluster.leader()!.node.id;
    for (const [i, row] of rows.entries()) {
      expect(Object.keys(row)).toEqual([...STATUS_KEYS]);
      const s = cluster.servers[i]!.node.status();
      expect(row).toMatchObject({ node: i + 1, address: cluster.endpoints[i], leader: leaderId, health: "ok" });
      expect(row.role).toBe(i + 1 === leaderId ? "leader" : "follower");
      expect(row.term).toBe(s.hardState.term);
      expect(row.commit).toBeGreaterThanOrEqual(30);
      expect(row.applied).toBeGreaterThanOrEqual(30);
      expect(row.lastIndex).toBeGreaterThanOrEqual(row.applied!);
      expect(row.lag).toBeGreaterThanOrEqual(0);
      expect(row.lag).toBeLessThan(5);
      expect(row.snapshotIndex).toBeGreaterThan(0);
      expect(row.snapshotIndex).toBeLessThanOrEqual(row.applied!);
    }
  });

  it("an endpoint nobody listens on is a row saying so, and the command still succeeds", async () => {
    const io = captureIO();
    const code = await statusCommand(["--endpoints", [...cluster.endpoints, closed].join(","), "--json", "--timeout-ms", "2000"], io);
    expect(code).toBe(0);
    const rows = JSON.parse(io.out) as StatusRow[];
    expect(rows).toHaveLength(4);
    expect(rows.slice(0, 3).every((r) => r.health === "ok")).toBe(true);
    expect(rows[3]).toEqual({
      node: null,
      address: closed,
      role: null,
      term: null,
      leader: null,
      commit: null,
      applied: null,
      lastIndex: null,
      lag: null,
      snapshotIndex: null,
      health: "unreachable: connection refused",
    });

    const table = captureIO();
    expect(await statusCommand(["--endpoints", cluster.endpoints[0]!, "--endpoints", closed], table)).toBe(0);
    const last = table.out.trimEnd().split("\n")[2]!;
    expect(last).toMatch(new RegExp(`^\\s*-\\s+${closed.replace(/\./g, "\\.")}\\s+(-\\s+){8}unreachable: connection refused$`));
  });

  it("exits 1 when no node answers", async () => {
    const io = captureIO();
    const other = await closedEndpoint();
    const code = await statusCommand(["--endpoints", `${closed},${other}`], io);
    expect(code).toBe(1);
    expect(io.out.trimEnd().split("\n")).toHaveLength(3);
    expect(io.err).toBe("raftgen status: no node answered (2 endpoints)\n");
  });

  it("collectStatus names the expected node of an endpoint that does not answer; the live line", async () => {
    const rows = await collectStatus([...cluster.endpoints, closed], { timeoutMs: 2000, ids: [1, 2, 3, 4] });
    expect(rows.map((r) => r.node)).toEqual([1, 2, 3, 4]);
    const leader = cluster.leader()!;
    const line = formatStatusLine(rows);
    expect(line).toMatch(new RegExp(`^leader ${leader.node.id} \\(${leader.grpcAddress}\\)  term \\d+  commit \\d+  applied \\d+  lag 1:\\d+ 2:\\d+ 3:\\d+ 4:down$`));
  });
});

describe("raftgen status usage", () => {
  it("exits 2 on bad usage, with the usage text", async () => {
    for (const args of [[], ["--endpoints", "localhost"], ["--endpoints", "a:1", "extra"], ["--endpoints", "a:1", "--timeout-ms", "soon"], ["--bogus"], ["--endpoints", "a:99999"], ["--endpoints", ","]]) {
      const io = captureIO();
      expect(await statusCommand(args, io), args.join(" ")).toBe(2);
      expect(io.err).toMatch(/^raftgen status: .*\nusage: raftgen status/);
      expect(io.out).toBe("");
    }
    const help = captureIO();
    expect(await statusCommand(["--help"], help)).toBe(0);
    expect(help.out).toMatch(/^usage: raftgen status/);
  });

  it("parseEndpoints trims, drops duplicates and accepts IPv6 hosts", () => {
    expect(parseEndpoints([" a:1, b:2 ,a:1", "[::1]:7001"])).toEqual({ endpoints: ["a:1", "b:2", "[::1]:7001"] });
    expect(parseEndpoints(["a:0"])).toEqual({ error: 'bad endpoint "a:0": expected host:port' });
  });
});

describe("status rows, table and line (pure)", () => {
  const reply = (over: Partial<StatusReply>): { ok: StatusReply } => ({
    ok: { id: "1", role: "Follower", term: "4", leader: "2", commit: "100", applied: "100", last_index: "100", snapshot_index: "0", ...over },
  });
  const endpoints = ["h:1", "h:2", "h:3", "h:4"];

  it("lag against the leader's last index; lagging above the threshold; no leader", () => {
    const rows = statusRows(
      endpoints,
      [reply({ id: "1", applied: "90" }), reply({ id: "2", role: "Leader", last_index: "105", applied: "100" }), reply({ id: "3", applied: "3", leader: "0", role: "Candidate" }), { error: "connection refused" }],
      { lagThreshold: 50 },
    );
    expect(rows.map((r) => [r.node, r.role, r.lag, r.health])).toEqual([
      [1, "follower", 15, "ok"],
      [2, "leader", 5, "ok"],
      [3, "candidate", 102, "no leader"],
      [null, null, null, "unreachable: connection refused"],
    ]);
    const lagging = statusRows(endpoints.slice(0, 2), [reply({ id: "1", applied: "10" }), reply({ id: "2", role: "Leader" })], { lagThreshold: 50 });
    expect(lagging[0]!.health).toBe("lagging");
  });

  it("without a leader, lag is measured against the highest commit", () => {
    const rows = statusRows(endpoints.slice(0, 2), [reply({ id: "1", commit: "80", applied: "70", leader: "0" }), reply({ id: "2", commit: "90", applied: "90", leader: "0" })]);
    expect(rows.map((r) => r.lag)).toEqual([20, 0]);
    expect(formatStatusLine(rows)).toBe("no leader  term 4  commit 90  applied 90  lag 1:20 2:0");
  });

  it("a deposed leader in an older term does not count as the leader", () => {
    const rows = statusRows(endpoints.slice(0, 2), [reply({ id: "1", role: "Leader", term: "3", leader: "1", last_index: "500" }), reply({ id: "2", role: "Leader", term: "4", leader: "2" })]);
    expect(rows.map((r) => r.lag)).toEqual([0, 0]);
    expect(formatStatusLine(rows)).toMatch(/^leader 2 \(h:2\)/);
  });

  it("the table aligns columns, right-aligns numbers and shows - for unknown values", () => {
    const rows = statusRows(endpoints.slice(0, 2), [reply({ id: "1", role: "Leader", leader: "1", commit: "12345", applied: "12345", last_index: "12345", snapshot_index: "10000" }), { error: "no answer within 3000 ms" }], { ids: [1, 2] });
    expect(formatStatusTable(rows)).toBe(
      [
        "node  address  role    term  leader  commit  applied  last index  lag  snapshot index  health",
        "   1  h:1      leader     4       1   12345    12345       12345    0           10000  ok",
        "   2  h:2      -          -       -       -        -           -    -               -  unreachable: no answer within 3000 ms",
        "",
      ].join("\n"),
    );
    expect(formatStatusLine(rows)).toBe("leader 1 (h:1)  term 4  commit 12345  applied 12345  lag 1:0 2:down");
    expect(formatStatusLine([])).toBe("no node answers (0 endpoints)");
  });
});
