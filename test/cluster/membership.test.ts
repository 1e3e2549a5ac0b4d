// Membership changes of a multi-process cluster under a steady write load (issue 4, proof 3):
// grow 3 -> 5 (nodes 4 and 5 start with `join: true`, are added as learners through the
// leader's admin service, catch up, and are promoted — Promote is refused while a learner lags,
// so it is retried until accepted), then remove two of the original voters (RemoveNode, then
// their processes stop), then transfer leadership to another node. Throughout, writers append
// unique tokens: at the end no acknowledged write failed or was lost (every acknowledged append
// is in the final state exactly once, no append at all appears twice) and the recorded history
// (appends and linearizable gets) is linearizable.

import { afterEach, describe, expect, it } from "vitest";
import { Cluster, type HttpStatus, waitFor } from "./harness.js";
import { Workload } from "./workload.js";

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});

const report = (line: string) => process.stdout.write(`[cluster/membership] ${line}\n`);

interface MemberReply {
  voters: string[];
  learners: string[];
}
const ids = (xs: readonly (string | number)[]) => xs.map(Number).sort((a, b) => a - b);

describe("multi-process membership changes", () => {
  it("grows 3 -> 5, removes two voters and transfers leadership under load, losing no acknowledged write", async () => {
    const c = (cluster = await Cluster.start({ size: 3 }));
    await c.waitForLeader();
    const w = new Workload({
      clients: [c.client(), c.client(), c.client()],
      writersPerClient: 3,
      readers: 2,
      totalWrites: 30_000,
      keys: 36,
      setEvery: 0,
      writersPerKey: 2,
      maxMs: 100_000,
      readPauseMs: 5,
      seed: 3,
    }).start();
    const step = async (what: string, f: () => Promise<void>) => {
      const t0 = Date.now();
      const acked0 = w.acked;
      await f();
      report(`${what}: ${Date.now() - t0} ms, ${w.acked - acked0} writes acknowledged meanwhile`);
    };
    try {
      await w.waitForAcked(300, 30_000);

      // Grow: one change at a time, learner first.
      for (const id of [4, 5]) {
        await step(`node ${id} joins as a learner, catches up and is promoted`, async () => {
          const n = await c.startJoiner(id);
          const added = await c.adminOnLeader<MemberReply>("AddLearner", { node_id: id, address: n.grpcAddress });
          expect(ids(added.learners)).toContain(id);
          // Just added, it holds nothing yet (it needs the leader's snapshot first): refused.
          await expect(c.adminOnLeader("Promote", { node_id: id })).rejects.toMatchObject({ code: "FailedPrecondition", message: expect.stringMatching(/not caught up/) });
          const commit = (await c.status(await c.waitForLeader())).hardState.commit;
          await c.waitForApplied(commit, [id], { timeoutMs: 30_000 });
          const promoted = await c.adminOnLeader<MemberReply>("Promote", { node_id: id }, { retryOn: ["FailedPrecondition"], timeoutMs: 30_000 });
          expect(ids(promoted.voters)).toContain(id);
          expect(ids(promoted.learners)).not.toContain(id);
        });
      }
      const five = await c.status((await c.waitForLeader())!);
      expect(five.voters).toEqual([1, 2, 3, 4, 5]);
      expect(five.learners).toEqual([]);
      await w.waitForAcked(w.acked + 300, 30_000);

      // Shrink: remove two of the original voters that do not lead, then stop them.
      const leaderNow = await c.waitForLeader();
      const victims = [1, 2, 3].filter((id) => id !== leaderNow).slice(0, 2);
      for (const v of victims) {
        await step(`node ${v} removed and stopped`, async () => {
          const r = await c.adminOnLeader<MemberReply>("RemoveNode", { node_id: v });
          expect(ids(r.voters)).not.toContain(v);
          const exit = await c.stop(v);
          expect(exit?.code, `removed node ${v} stops cleanly`).toBe(0);
        });
      }
      const remaining = [1, 2, 3, 4, 5].filter((id) => !victims.includes(id));
      await waitFor(
        `voters ${remaining} on every remaining node`,
        async () => {
          const st = await c.statuses(remaining);
          return st.size === remaining.length && [...st.values()].every((s) => s.voters.join() === remaining.join()) ? st : undefined;
        },
        { timeoutMs: 20_000 },
      );
      await w.waitForAcked(w.acked + 300, 30_000);

      // Transfer leadership to another remaining node (a newcomer when possible).
      const from = await c.waitForLeader();
      const to = [5, 4, ...remaining].find((id) => id !== from && remaining.includes(id))!;
      await step(`leadership transferred ${from} -> ${to}`, async () => {
        const r = await c.adminOnLeader<{ leader: string }>("TransferLeader", { to }, { retryOn: ["Timeout"], timeoutMs: 30_000 });
        expect(Number(r.leader)).toBe(to);
        await waitFor(`node ${to} to lead`, async () => ((await c.leader(remaining)) === to ? true : undefined), { timeoutMs: 10_000 });
      });
      await w.waitForAcked(w.acked + 300, 30_000);
      w.stop();
      await w.done();
      report(`workload: ${w.summary()}`);

      // Nothing acknowledged failed or was lost.
      expect(w.failed, "writes that definitely failed").toBe(0);
      const st: Map<number, HttpStatus> = await c.waitForConvergence(remaining, { timeoutMs: 30_000 });
      expect(new Set([...st.values()].map((s) => s.applied)).size).toBe(1);
      const cl = c.client({ ids: remaining });
      const final = new Map<string, string>();
      for (const k of w.keys) final.set(k, await w.get(cl, "final", k));
      const states = await Promise.all(remaining.map((id) => c.kvState(id, w.keys)));
      for (const [i, s] of states.entries()) {
        for (const k of w.keys) expect(s.values[k] ?? "", `key ${k} on node ${remaining[i]}`).toBe(final.get(k));
      }
      const present = new Map<string, number>();
      for (const v of final.values()) for (const t of v.split(";").filter(Boolean)) present.set(`${t};`, (present.get(`${t};`) ?? 0) + 1);
      const lost = w.writes.filter((x) => x.outcome === "ok" && present.get(x.value) !== 1);
      expect(lost.map((x) => `${x.key}:${x.value}`), "acknowledged appends lost or applied twice").toEqual([]);
      const twice = [...present].filter(([, n]) => n > 1);
      expect(twice, "appends applied more than once").toEqual([]);
      const unknownApplied = w.writes.filter((x) => x.outcome === "info" && present.has(x.value)).length;
      report(`final state: ${present.size} appends present, ${w.acked} acknowledged, ${w.indeterminate} indeterminate (${unknownApplied} of them applied)`);
      const lin = w.checkLinearizable(60_000);
      report(`history: ${lin.ops} operations, ${lin.verdict} (checked in ${lin.elapsedMs} ms)`);
      await c.expectHealthy(remaining);
      await c.stopAllCleanly();
    } catch (err) {
      w.stop();
      await w.done();
      throw new Error(`${(err as Error).message}\n${w.summary()}\n${c.logs()}`, { cause: err });
    }
  }, 150_000);
});
