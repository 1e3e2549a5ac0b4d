// The node process of a generated service, called in-process: runServer with injected argv
// and env reports every configuration mistake as one line on stderr with exit code 2 (never
// a stack trace, never process.exit); the shared loader (runtime/server/process.ts) merges
// flags over environment over file; runNodeProcess starts a node, prints the ready line, stops
// on request, and refuses a data directory of another cluster with exit code 2.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createServiceStateMachine, runServer, typedServices } from "raftgen/runtime/codegen-v1";
import { loadNodeConfig, runNodeProcess } from "../../runtime/server/process.js";
import { kv, kvHandlers } from "./fixtures.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "raftgen-server-main-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

/** Run runServer in-process; returns its exit code and what it wrote. */
async function run(argv: string[], env: Record<string, string> = {}, handlers: object = kvHandlers) {
  let stderr = "";
  let stdout = "";
  vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  await runServer(kv, handlers as typeof kvHandlers, argv, env);
  vi.restoreAllMocks();
  const code = process.exitCode;
  process.exitCode = undefined;
  return { code, stderr, stdout };
}

async function file(name: string, content: unknown): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, typeof content === "string" ? content : JSON.stringify(content));
  return p;
}

const base = ["--id", "1", "--cluster-id", "c", "--data", "/tmp/unused", "--port", "0"];

describe("runServer: configuration mistakes are one line and exit code 2", () => {
  it.each<[string, string[], Record<string, string>, string]>([
    ["nothing at all", [], {}, "Kv node: no configuration: pass a config file (--config node.json), flags (--id, --cluster-id, --data, --port, ...) or RAFTGEN_* variables; --help lists them"],
    ["a bad port flag", ["--id", "1", "--cluster-id", "c", "--data", "d", "--port", "abc"], {}, 'Kv node: --port: "abc" is not a port number (0-65535)'],
    ["a port out of range", [...base.slice(0, 6), "--port", "70000"], {}, 'Kv node: --port: "70000" is not a port number (0-65535)'],
    ["a bad id in the environment", [], { RAFTGEN_ID: "x", RAFTGEN_CLUSTER_ID: "c" }, 'Kv node: RAFTGEN_ID: "x" is not a node id (an integer >= 1)'],
    ["a missing setting", ["--id", "1", "--cluster-id", "c", "--port", "0"], {}, 'Kv node: no data directory: set "dataDir" in the config file, --data or RAFTGEN_DATA'],
    ["an unknown flag", [...base, "--bogus"], {}, "Kv node: unknown option --bogus (--help lists the options)"],
    ["a flag without its value", ["--id"], {}, "Kv node: --id needs a value"],
    ["two files", ["a.json", "b.json"], {}, 'Kv node: unexpected argument "b.json" (one config file at most)'],
    ["bad peers", [...base, "--peers", "1=127.0.0.1:7001,x=h:1"], {}, 'Kv node: --peers: peer id "x" is not an integer >= 1'],
    ["bad peer address", [...base], { RAFTGEN_PEERS: "1=localhost" }, 'Kv node: RAFTGEN_PEERS: address "localhost" of peer 1 is not host:port'],
    ["a bad log level", [...base, "--log-level", "loud"], {}, 'Kv node: --log-level: "loud" is not a log level (debug, info, warn or error)'],
    ["a missing config file", [path.join("/nonexistent", "node.json")], {}, "Kv node: cannot read config file /nonexistent/node.json: no such file"],
  ])("%s", async (_, argv, env, line) => {
    const r = await run(argv, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`${line}\n`);
    expect(r.stdout).toBe("");
  });

  it("config file mistakes name the file and the key", async () => {
    const notJson = await file("bad.json", "{ id: 1");
    expect((await run([notJson])).stderr).toMatch(new RegExp(`^Kv node: config file ${notJson} is not valid JSON: .*\\n$`));
    const withSm = await file("sm.json", { id: 1, clusterId: "c", dataDir: "d", grpcPort: 0, stateMachine: { module: "x" } });
    const r = await run(["--config", withSm]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`Kv node: config file ${withSm}: unknown key "stateMachine" (known: id, clusterId, dataDir, host, grpcPort, httpPort, peers, join, logLevel, node)\n`);
    const badType = await file("type.json", { id: "1", clusterId: "c", dataDir: "d", grpcPort: 0 });
    expect((await run([badType])).stderr).toBe(`Kv node: ${badType}: "id": "1" is not a node id (an integer >= 1)\n`);
    const badTuning = await file("tuning.json", { id: 1, clusterId: "c", dataDir: "d", grpcPort: 0, node: { tickMs: 0 } });
    expect((await run([badTuning])).stderr).toBe(`Kv node: ${badTuning}: "node".tickMs: 0 is not an integer >= 1\n`);
  });

  it("missing handlers are a one-line start-up error", async () => {
    const r = await run(base, {}, { commands: {}, queries: {} });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('Kv node: cannot create the state machine: handlers.commands.set is missing (command "set" of the spec)\n');
  });

  it("--help prints the usage on stdout and exits 0", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: Kv node \[--config FILE \| FILE\] \[options\]\n/);
    expect(r.stdout).toContain("--peers 1=H:P,2=H:P");
  });
});

describe("configuration sources", () => {
  it("flags override the environment, which overrides the file", async () => {
    const f = await file("layers.json", { id: 1, clusterId: "file", dataDir: "file-dir", host: "127.0.0.1", grpcPort: 7001, httpPort: 8001, peers: { "1": "127.0.0.1:7001", "2": "127.0.0.1:7002" }, logLevel: "error", node: { tickMs: 50 } });
    const cfg = await loadNodeConfig(["--config", f, "--port", "7101", "--log-level", "debug"], { RAFTGEN_PORT: "7201", RAFTGEN_CLUSTER_ID: "env", RAFTGEN_HTTP_PORT: "8201" });
    expect(cfg).toMatchObject({ id: 1, clusterId: "env", dataDir: "file-dir", grpcPort: 7101, httpPort: 8201, logLevel: "debug", join: false, node: { tickMs: 50 } });
    expect(cfg !== "help" && [...cfg.peers]).toEqual([
      [1, "127.0.0.1:7001"],
      [2, "127.0.0.1:7002"],
    ]);
  });

  it("flags alone: --flag=value works, peers default to this node alone, --join needs peers", async () => {
    const cfg = await loadNodeConfig(["--id=3", "--cluster-id=c", "--data=d", "--port=7003", "--host", "0.0.0.0"], {});
    expect(cfg).toMatchObject({ id: 3, host: "0.0.0.0", grpcPort: 7003, httpPort: 0, logLevel: "warn" });
    expect(cfg !== "help" && [...cfg.peers]).toEqual([[3, "0.0.0.0:7003"]]);
    await expect(loadNodeConfig([...base, "--join"], {})).rejects.toThrow("a joining node needs the addresses of current members: set peers");
    const joining = await loadNodeConfig([...base, "--join", "--peers", "2=127.0.0.1:7002"], {});
    expect(joining).toMatchObject({ join: true });
  });
});

describe("runNodeProcess", () => {
  it("starts a node with the typed service, prints the ready line, stops on request; refuses a foreign data directory", async () => {
    const dataDir = path.join(dir, "node-data");
    let out = "";
    let err = "";
    const io = { stdout: (s: string) => void (out += s), stderr: (s: string) => void (err += s) };
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const running = runNodeProcess({
      argv: ["--id", "1", "--cluster-id", "first", "--data", dataDir, "--port", "0"],
      env: {},
      program: "Kv node",
      stateMachine: () => createServiceStateMachine(kv, kvHandlers),
      services: typedServices(kv),
      io,
      stop: stopped,
    });
    const deadline = Date.now() + 15_000;
    while (!out.includes("\n") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const ready = JSON.parse(out.split("\n")[0]!) as { event: string; id: number; grpc: string; http: string };
    expect(ready).toMatchObject({ event: "ready", id: 1, grpc: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    stop();
    expect(await running).toBe(0);
    expect(err).toBe("");

    err = "";
    const refused = await runNodeProcess({
      argv: ["--id", "1", "--cluster-id", "second", "--data", dataDir, "--port", "0"],
      env: {},
      program: "Kv node",
      stateMachine: () => createServiceStateMachine(kv, kvHandlers),
      io,
    });
    expect(refused).toBe(2);
    expect(err.split("\n").filter(Boolean)).toHaveLength(1);
    expect(err).toMatch(/^node 1 refuses to start: .*first.*\n$/);
  });
});
