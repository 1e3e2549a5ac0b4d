// NodeServer.stop(): the calls being answered finish, then connections close — without
// waiting out the grace period for the peers' transport streams, which never end by
// themselves (stop used to take the full 2 s every time in a cluster).

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { RaftClient } from "../../runtime/client/index.js";
import { type NodeServer, startNodeServer } from "../../runtime/server/server.js";
import { TEST_TUNING, reservePorts } from "../cluster/harness.js";
import { KvStateMachine, json } from "../node/kv-state-machine.js";

const servers: NodeServer[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

test("stopping a node of a 3-node cluster takes well under the grace period, and a call in flight gets an answer", async () => {
  const ports = await reservePorts(3);
  const peers = new Map(ports.map((p, i) => [i + 1, `127.0.0.1:${p}`] as [number, string]));
  for (const [id] of peers) {
    const dir = await mkdtemp(join(tmpdir(), "raftgen-stop-"));
    dirs.push(dir);
    servers.push(
      await startNodeServer({ id, clusterId: "stop", dataDir: dir, grpcPort: ports[id - 1]!, httpPort: 0, peers, stateMachine: new KvStateMachine(), node: TEST_TUNING }),
    );
  }
  const client = new RaftClient({ endpoints: [...peers.values()], deadlineMs: 10_000 });
  try {
    await client.command("set", json({ key: "a", value: "1" }));
    const leader = servers.find((s) => s.node.isLeader())!;
    const follower = servers.find((s) => s !== leader)!;
    // A follower with its peers' streams open: stop must not wait for them.
    let started = performance.now();
    await follower.stop();
    expect(performance.now() - started).toBeLessThan(1_000);
    // The leader, with a command in flight: it is answered (applied or refused), never left hanging.
    const inFlight = client.command("set", json({ key: "b", value: "2" })).then(
      () => "ok",
      (err: Error) => err.name,
    );
    started = performance.now();
    await leader.stop();
    expect(performance.now() - started).toBeLessThan(2_500);
    expect(["ok", "NodeError"]).toContain(await inFlight);
  } finally {
    client.close();
  }
});
