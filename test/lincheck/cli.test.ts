// `raftgen lincheck` and the subcommand dispatch, run in-process through main(): every exit
// code (0 linearizable, 1 not linearizable, 2 bad usage or unreadable input, 3 unknown) and
// the text printed with it.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../generator/cli.js";
import { HistoryRecorder } from "../../runtime/testing/lincheck/index.js";
import { sharedPath } from "./shared-data.js";

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
  return { code, out, err };
}

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "lincheck-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tmpFile(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

describe("raftgen lincheck", () => {
  it("exit 0: prints linearizable", async () => {
    const r = await run("lincheck", "--model", "register", sharedPath("jepsen/etcd_002.log"));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^linearizable\nmodel register: 77 operations in 1 partition, \d+ search steps, \d+ ms\n$/);
    expect(r.err).toBe("");
    // etcd_101 has five `:fail :read :timed-out`, dropped by the model.
    const r101 = await run("lincheck", "--model", "register", sharedPath("jepsen/etcd_101.log"));
    expect(r101.code).toBe(0);
    expect(r101.out).toMatch(/^linearizable\nmodel register: 72 operations \(\+5 dropped: [^)]*\) in 1 partition/);
  });

  it("exit 1: prints not linearizable with the key and the prefix that cannot be linearized", async () => {
    const r = await run("lincheck", "--model=kv", "--format", "edn-lines", sharedPath("kv/c01-bad.txt"));
    expect(r.code).toBe(1);
    const lines = r.out.split("\n");
    expect(lines[0]).toBe("not linearizable");
    expect(lines[2]).toBe("stopped at the first failing partition; 3 others were not finished");
    expect(lines[3]).toBe('key "7" (5 operations): no linearization exists for the history up to line 60, where this operation completes:');
    expect(lines[4]).toBe('  client 0: get("7") -> "x 0 0 y"  [lines 59-60]');
    expect(lines[5]).toBe('  longest partial linearization found: 3 operations, leaving state "x 0 0 yx 0 3 y"');
    expect(r.out).toContain('client 0: append("7", "x 0 3 y")  [lines 55-56]');
  });

  it("exit 1 on a Jepsen register history, naming indeterminate operations", async () => {
    const r = await run("lincheck", "--model", "register", sharedPath("jepsen/etcd_000.log"));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^not linearizable\n/);
    expect(r.out).toMatch(/^history \(\d+ operations\): no linearization exists for the history up to line \d+, where this operation completes:$/m);
    expect(r.out).toContain("indeterminate]");
  });

  it("exit 1 quickly on c50-bad, whose worst partitions explode", async () => {
    const started = performance.now();
    const r = await run("lincheck", "--model", "kv", sharedPath("kv/c50-bad.txt"));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^key "\d" \(\d+ operations\): no linearization exists for the history up to line \d+/m);
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  it("exit 3: a tiny time budget on a hard history gives unknown, promptly", async () => {
    const r = await run("lincheck", "--model", "kv", "--timeout-ms", "1", sharedPath("kv/c50-ok.txt"));
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/^unknown\n/);
    expect(r.out).toMatch(/^key "\d" \(\d+ operations\): unknown, search stopped at the time budget \(1 ms\) after \d+ steps$/m);
  });

  it("exit 3 on a recorded json history whose search explodes", async () => {
    // 14 concurrent appends and a read nothing can explain: refuting it takes 14! orders.
    let t = 0;
    const rec = new HistoryRecorder({ clock: () => BigInt(t) });
    const pending: Promise<unknown>[] = [];
    const gate: (() => void)[] = [];
    for (let i = 0; i < 14; i++) {
      pending.push(rec.record(i, "append", String.fromCharCode(97 + i), () => new Promise<void>((r) => gate.push(r)), { key: "k" }));
    }
    t = 10;
    gate.forEach((open) => open());
    await Promise.all(pending);
    t = 11;
    await rec.record(99, "get", null, async () => "impossible", { key: "k" });
    const file = path.join(dir, "exploding.json");
    await rec.writeFile(file);
    const started = performance.now();
    const r = await run("lincheck", "--model", "kv", "--timeout-ms", "200", file);
    expect(r.code).toBe(3);
    expect(r.out).toContain('key "k" (15 operations): unknown, search stopped at the time budget (200 ms)');
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  describe("exit 2", () => {
    it("on a missing file", async () => {
      const r = await run("lincheck", "--model", "kv", path.join(dir, "nope.txt"));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^raftgen lincheck: cannot read .*nope\.txt: ENOENT/);
      expect(r.out).toBe("");
    });

    it("on a parse error, with file and line", async () => {
      const file = await tmpFile(
        "bad.log",
        "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:read\tnil\n",
      );
      const r = await run("lincheck", "--model", "register", file);
      expect(r.code).toBe(2);
      expect(r.err).toBe(
        `raftgen lincheck: ${file}:3: :ok read for client 1, which has no open operation (format jepsen-log, model register)\n`,
      );
    });

    it("on a history that does not fit the model", async () => {
      const r = await run("lincheck", "--model", "kv", sharedPath("jepsen/etcd_000.log"));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/etcd_000\.log:1: a kv operation needs a key/);
    });

    it("on an undetectable format", async () => {
      const file = await tmpFile("what.txt", "hello\n");
      const r = await run("lincheck", "--model", "kv", file);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/cannot tell the history format; pass --format jepsen-log\|edn-lines\|json/);
    });

    it("on bad options", async () => {
      for (const argv of [
        ["lincheck", sharedPath("kv/c01-ok.txt")],
        ["lincheck", "--model", "queue", sharedPath("kv/c01-ok.txt")],
        ["lincheck", "--model", "kv", "--format", "csv", sharedPath("kv/c01-ok.txt")],
        ["lincheck", "--model", "kv", "--timeout-ms", "soon", sharedPath("kv/c01-ok.txt")],
        ["lincheck", "--model", "kv"],
        ["lincheck", "--model", "kv", "a", "b"],
        ["lincheck", "--model", "kv", "--frobnicate", sharedPath("kv/c01-ok.txt")],
      ]) {
        const r = await run(...argv);
        expect(r.code, argv.join(" ")).toBe(2);
        expect(r.err).toMatch(/^raftgen lincheck: .+\nusage: raftgen lincheck --model register\|kv/);
      }
    });
  });

  it("--format overrides inference; --help prints usage", async () => {
    const r = await run("lincheck", "--model", "kv", "--format", "json", sharedPath("kv/c01-ok.txt"));
    expect(r.code).toBe(2);
    expect(r.err).toContain("invalid JSON");
    const h = await run("lincheck", "--help");
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/^usage: raftgen lincheck/);
  });
});

describe("raftgen command dispatch", () => {
  it("rejects an unknown command with usage and exit 2", async () => {
    const r = await run("frobnicate");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^raftgen: unknown command "frobnicate"\n\nusage: raftgen <command>/);
    expect(r.err).toContain("lincheck  check a recorded history for linearizability");
  });

  it("prints usage to stderr with exit 2 when no command is given, to stdout with --help", async () => {
    expect((await run()).code).toBe(2);
    const h = await run("--help");
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/^usage: raftgen <command>/);
    const sub = await run("help", "lincheck");
    expect(sub.out).toMatch(/^usage: raftgen lincheck/);
  });

  it("does not mistake Object.prototype names for commands", async () => {
    expect((await run("toString")).code).toBe(2);
  });
});
