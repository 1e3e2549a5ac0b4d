// The history recorder: what it records for each outcome, its json output (read back by the
// json parser), and end-to-end checks of small in-memory services driven concurrently through
// it, one correct and one that serves stale reads.

import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  checkHistory,
  HistoryRecorder,
  kvModel,
  parseJsonHistory,
  registerModel,
} from "../../runtime/testing/lincheck/index.js";

/** A clock that advances 10 ns per reading, so every time is predictable. */
function fakeClock(): () => bigint {
  let t = 1_000_000n;
  return () => (t += 10n);
}

class NotLeader extends Error {
  override readonly name = "NotLeader";
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe("HistoryRecorder", () => {
  it("records ok, definite failures, indeterminate errors and pending calls", async () => {
    const rec = new HistoryRecorder({ clock: fakeClock(), isDefiniteFailure: (e) => e instanceof NotLeader });
    await expect(rec.record(1, "write", 3, async () => "done", { output: () => null })).resolves.toBe("done");
    await expect(rec.record("c2", "read", null, async () => 3)).resolves.toBe(3);
    await expect(
      rec.record(3, "write", 4, async () => {
        throw new NotLeader("leader is n2");
      }),
    ).rejects.toThrow("leader is n2");
    await expect(
      rec.record(4, "cas", [3, 5], () => {
        throw new Error("deadline exceeded");
      }),
    ).rejects.toThrow("deadline exceeded");
    void rec.record(5, "put", "v", () => new Promise<never>(() => {}), { key: "k" });
    expect(rec.size).toBe(5);
    expect(rec.toJSON()).toEqual({
      format: "raftgen-history",
      version: 1,
      timeUnit: "ns",
      operations: [
        { client: "1", op: "write", input: 3, call: 10, return: 20, outcome: "ok", output: null },
        { client: "c2", op: "read", input: null, call: 30, return: 40, outcome: "ok", output: 3 },
        { client: "3", op: "write", input: 4, call: 50, return: 60, outcome: "fail", error: "NotLeader: leader is n2" },
        { client: "4", op: "cas", input: [3, 5], call: 70, return: null, outcome: "info", error: "Error: deadline exceeded" },
        { client: "5", op: "put", key: "k", input: "v", call: 90, return: null, outcome: "info" },
      ],
    });
  });

  it("treats every error as indeterminate by default", async () => {
    const rec = new HistoryRecorder();
    await rec.record(1, "write", 1, () => Promise.reject(new NotLeader())).catch(() => {});
    expect(rec.toJSON().operations[0]).toMatchObject({ outcome: "info", return: null, error: "NotLeader" });
  });

  it("stores bigints as decimal strings", async () => {
    const rec = new HistoryRecorder({ clock: fakeClock() });
    await rec.record(1, "read", { n: 2n ** 64n }, async () => 5n);
    expect(rec.toJSON().operations[0]).toMatchObject({ input: { n: "18446744073709551616" }, output: "5" });
  });

  it("writes a json file that the parser reads back to the same records", async () => {
    const rec = new HistoryRecorder();
    await rec.record(0, "put", "a", async () => null, { key: "k" });
    await rec.record(1, "append", "b", () => Promise.reject(new Error("timeout")), { key: "k" }).catch(() => {});
    await rec.record(2, "get", null, async () => "ab", { key: "k" });
    const dir = await mkdtemp(path.join(tmpdir(), "lincheck-rec-"));
    dirs.push(dir);
    const file = path.join(dir, "history.json");
    await rec.writeFile(file);
    const parsed = parseJsonHistory(await readFile(file, "utf8"));
    expect(parsed.map(({ line: _line, ...r }) => r)).toEqual(rec.operations());
    // One operation per line: the first starts on line 6.
    expect(parsed.map((r) => r.line)).toEqual([6, 7, 8]);
    expect(checkHistory(kvModel, parsed).verdict).toBe("linearizable");
  });
});

describe("recording real concurrent clients", () => {
  /** A correct register: each call takes effect atomically at a random moment inside it. */
  class AtomicRegister {
    private value: number | null = null;
    async write(v: number): Promise<null> {
      await sleep(Math.random() * 3);
      this.value = v;
      await sleep(Math.random() * 3);
      return null;
    }
    async read(): Promise<number | null> {
      await sleep(Math.random() * 3);
      const v = this.value;
      await sleep(Math.random() * 3);
      return v;
    }
    async cas(from: number, to: number): Promise<boolean> {
      await sleep(Math.random() * 3);
      const ok = this.value === from;
      if (ok) this.value = to;
      await sleep(Math.random() * 3);
      return ok;
    }
  }

  it("a correct register gives a linearizable history", async () => {
    const reg = new AtomicRegister();
    const rec = new HistoryRecorder();
    const client = async (id: number) => {
      for (let i = 0; i < 15; i++) {
        const r = Math.random();
        if (r < 0.4) await rec.record(id, "read", null, () => reg.read());
        else if (r < 0.7) {
          const v = Math.floor(Math.random() * 4);
          await rec.record(id, "write", v, () => reg.write(v));
        } else {
          const from = Math.floor(Math.random() * 4);
          const to = Math.floor(Math.random() * 4);
          await rec.record(id, "cas", [from, to], () => reg.cas(from, to));
        }
      }
    };
    await Promise.all([0, 1, 2, 3, 4].map(client));
    const result = checkHistory(registerModel, rec.operations(), { timeoutMs: 10_000 });
    expect(result.verdict).toBe("linearizable");
  });

  it("a register that reads from a lagging replica is caught", async () => {
    let primary: number | null = null;
    let replica: number | null = null;
    const write = async (v: number) => {
      primary = v;
      setTimeout(() => (replica = v), 50);
      return null;
    };
    const read = async () => replica;
    const rec = new HistoryRecorder();
    await rec.record(0, "write", 1, () => write(1));
    await rec.record(1, "read", null, () => read());
    expect(primary).toBe(1);
    const result = checkHistory(registerModel, rec.operations());
    expect(result.verdict).toBe("not-linearizable");
    expect(result.failed?.failure?.stuck.input).toEqual({ op: "read" });
  });
});
