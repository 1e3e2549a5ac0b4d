// Tests of RocksStorage beyond the shared contract: the identity and start-up validation of a
// data directory (a foreign, damaged or newer directory is refused with a message naming the
// directory and the key), the key layout exactly as DESIGN lists it (zero-padded entry keys,
// fixed-size uncommit range, no user key reaching /raft/), the applied index written
// atomically with the effects (also when a write fails), and snapshots: the source is a
// point-in-time view of /sm/ and /session/ only, the sink installs atomically, and a corrupted
// or truncated stream changes nothing. Each test works in its own mkdtemp directory.

import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { encodeEntry, encodeHardState } from "../../runtime/codec/eraftpb.js";
import type { SnapshotMetadata } from "../../runtime/raft/types.js";
import {
  APPLIED_INDEX_KEY,
  FORMAT_VERSION,
  HARD_STATE_KEY,
  IDENTITY_KEY,
  LAST_INDEX_KEY,
  RocksStorage,
  StorageError,
  UNCOMMIT_INDEX_KEY,
  decodeSnapshotStream,
  decodeStateKey,
  encodeSnapshotStream,
  entryKey,
  sessionKey,
  stateKey,
  type RocksStorageOptions,
  type StateOp,
  type StorageErrorCode,
} from "../../runtime/storage/index.js";
import { encodeIdentity, encodeRange, encodeU64, seal } from "../../runtime/storage/values.js";
import { CS, allKeys, bytes, cleanupDirs, collect, concat, ents, stream, tempDir, text, withRawDb } from "./helpers.js";

afterEach(cleanupDirs);

const ID = { clusterId: "cluster-a", nodeId: 1 };
const opened: RocksStorage[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0, opened.length).map((s) => s.close().catch(() => undefined)));
});

async function open(dir: string, extra: Partial<RocksStorageOptions> = {}): Promise<RocksStorage> {
  const s = await RocksStorage.open(dir, { ...ID, ...extra });
  opened.push(s);
  return s;
}

async function fresh(extra: Partial<RocksStorageOptions> = {}): Promise<{ dir: string; s: RocksStorage }> {
  const dir = await tempDir();
  const s = await open(dir, { create: true, initialConfState: CS, ...extra });
  return { dir, s };
}

/** A directory holding entries 1..5 (term 1), commit 4, applied 2, then closed. */
async function populated(): Promise<string> {
  const { dir, s } = await fresh();
  await s.persistReady({ entries: ents(1, 5, 1), hardState: { term: 1, vote: 1, commit: 4 } });
  await s.applyBatch([{ type: "put", table: "kv", key: "a", value: bytes("1") }], 2);
  await s.close();
  return dir;
}

async function refusal(p: Promise<unknown>): Promise<StorageError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(StorageError);
    return err as StorageError;
  }
  throw new Error("expected the call to be refused");
}

async function expectRefused(p: Promise<unknown>, code: StorageErrorCode, ...fragments: string[]): Promise<StorageError> {
  const err = await refusal(p);
  expect(err.code).toBe(code);
  for (const f of fragments) expect(err.message).toContain(f);
  return err;
}

const put = (table: string, key: string | number | bigint, value: string): StateOp => ({ type: "put", table, key, value: bytes(value) });

/** All rows of a table as [key, text value]. */
async function rows(s: RocksStorage, table: string): Promise<Array<[string | bigint, string]>> {
  const out: Array<[string | bigint, string]> = [];
  for await (const r of s.scan(table)) out.push([r.key, text(r.value)]);
  return out;
}

describe("identity and start-up validation", () => {
  it("reopens its own directory", async () => {
    const dir = await populated();
    const s = await open(dir);
    expect(s.identity).toEqual({ ...ID, formatVersion: FORMAT_VERSION });
    expect(s.lastIndex()).toBe(5);
    expect(s.appliedIndex()).toBe(2);
  });

  it("refuses a directory of another cluster", async () => {
    const dir = await populated();
    const err = await expectRefused(RocksStorage.open(dir, { clusterId: "cluster-b", nodeId: 1 }), "ForeignCluster", dir, "/meta/identity", '"cluster-a"');
    expect(err.where).toEqual({ dir, key: "/meta/identity" });
  });

  it("refuses a directory of another node", async () => {
    const dir = await populated();
    await expectRefused(RocksStorage.open(dir, { clusterId: "cluster-a", nodeId: 2 }), "WrongNode", dir, "/meta/identity", "node 1");
  });

  it("refuses a directory written in a newer format", async () => {
    const dir = await populated();
    await withRawDb(dir, (db) =>
      db.write([{ type: "put", key: IDENTITY_KEY, value: encodeIdentity(IDENTITY_KEY, { ...ID, formatVersion: FORMAT_VERSION + 1 }) }], { sync: true }),
    );
    await expectRefused(open(dir), "NewerFormat", dir, "/meta/identity", `format ${FORMAT_VERSION + 1}`);
  });

  it("refuses a damaged identity", async () => {
    const dir = await populated();
    await withRawDb(dir, async (db) => {
      const v = Buffer.from((await db.get(IDENTITY_KEY))!);
      v[6] ^= 0x40;
      await db.write([{ type: "put", key: IDENTITY_KEY, value: v }], { sync: true });
    });
    await expectRefused(open(dir), "Corrupt", dir, "/meta/identity", "checksum");
  });

  it("refuses a damaged entry value, naming the key and the directory", async () => {
    const dir = await populated();
    await withRawDb(dir, async (db) => {
      const v = Buffer.from((await db.get(entryKey(3)))!);
      v[v.length - 6] ^= 0x01;
      await db.write([{ type: "put", key: entryKey(3), value: v }], { sync: true });
    });
    const err = await expectRefused(open(dir), "Corrupt", dir, "/raft/entry/00000000000000000003", "checksum mismatch");
    expect(err.where.key).toBe("/raft/entry/00000000000000000003");
  });

  it("refuses an entry that does not decode, and one whose index does not match its key", async () => {
    const dir = await populated();
    const k = entryKey(3);
    await withRawDb(dir, (db) => db.write([{ type: "put", key: k, value: seal(k, Uint8Array.of(0x10, 0xff)) }], { sync: true }));
    await expectRefused(open(dir), "Corrupt", dir, "/raft/entry/00000000000000000003", "does not decode");
    await withRawDb(dir, (db) => db.write([{ type: "put", key: k, value: seal(k, encodeEntry(ents(7, 7, 1)[0]!)) }], { sync: true }));
    await expectRefused(open(dir), "Corrupt", "/raft/entry/00000000000000000003", "holds the entry of index 7");
  });

  it("refuses a log with an entry missing in the middle", async () => {
    const dir = await populated();
    await withRawDb(dir, (db) => db.write([{ type: "del", key: entryKey(3) }], { sync: true }));
    await expectRefused(open(dir), "Corrupt", dir, "/raft/entry/00000000000000000003", "is missing", "gap");
  });

  it("refuses an entry beyond last_index (a torn truncation)", async () => {
    const dir = await populated();
    const k = entryKey(6);
    await withRawDb(dir, (db) => db.write([{ type: "put", key: k, value: seal(k, encodeEntry(ents(6, 6, 1)[0]!)) }], { sync: true }));
    await expectRefused(open(dir), "Corrupt", "/raft/entry/00000000000000000006", "outside the log");
  });

  it("refuses a hard state whose commit is beyond the last index", async () => {
    const dir = await populated();
    await withRawDb(dir, (db) =>
      db.write([{ type: "put", key: HARD_STATE_KEY, value: seal(HARD_STATE_KEY, encodeHardState({ term: 1, vote: 1, commit: 9 })) }], { sync: true }),
    );
    await expectRefused(open(dir), "Corrupt", dir, "/raft/hard_state", "commit 9 is beyond the last index 5");
  });

  it("refuses an applied index beyond the commit index", async () => {
    const dir = await populated();
    await withRawDb(dir, (db) => db.write([{ type: "put", key: APPLIED_INDEX_KEY, value: seal(APPLIED_INDEX_KEY, encodeU64(5)) }], { sync: true }));
    await expectRefused(open(dir), "Corrupt", dir, "/raft/applied_index", "applied index 5 is beyond the commit index 4");
  });

  it("refuses a missing /raft/ key and an uncommit range that disagrees", async () => {
    const dir = await populated();
    await withRawDb(dir, (db) => db.write([{ type: "put", key: UNCOMMIT_INDEX_KEY, value: seal(UNCOMMIT_INDEX_KEY, encodeRange(3, 5)) }], { sync: true }));
    await expectRefused(open(dir), "Corrupt", "/raft/uncommit_index", "(3, 5]");
    await withRawDb(dir, (db) => db.write([{ type: "del", key: LAST_INDEX_KEY }], { sync: true }));
    await expectRefused(open(dir), "Corrupt", dir, "/raft/last_index", "is missing");
  });

  it("refuses an uninitialised directory without create, and a directory with data but no identity", async () => {
    const empty = await tempDir();
    await expectRefused(RocksStorage.open(empty, ID), "NotInitialized", empty);
    await expectRefused(RocksStorage.open(`${empty}/missing`, ID), "NotInitialized", `${empty}/missing`);
    const dir = await populated();
    await withRawDb(dir, (db) => db.write([{ type: "del", key: IDENTITY_KEY }], { sync: true }));
    await expectRefused(open(dir, { create: true }), "Corrupt", "/meta/identity", "is missing", "holds other keys");
  });

  it("refuses a directory another storage has open", async () => {
    const { dir } = await fresh();
    await expectRefused(RocksStorage.open(dir, ID), "Io", dir, "another process");
  });
});

describe("key layout", () => {
  it("writes exactly the keys DESIGN lists", async () => {
    const { dir, s } = await fresh();
    await s.persistReady({ entries: ents(1, 3, 1), hardState: { term: 1, vote: 1, commit: 2 } });
    await s.applyBatch(
      [put("kv", "a", "x"), put("nodes", 7, "n7"), { type: "putSession", clientId: "client-1", session: { lastSequence: 4, reply: bytes("ok") } }],
      2,
    );
    await s.close();
    const keys = await withRawDb(dir, async (db) => (await allKeys(db)).map(([k]) => k.toString("latin1")));
    expect(keys).toEqual([
      "/meta/identity",
      "/raft/applied_index",
      "/raft/conf_state",
      "/raft/entry/00000000000000000001",
      "/raft/entry/00000000000000000002",
      "/raft/entry/00000000000000000003",
      "/raft/first_index",
      "/raft/hard_state",
      "/raft/last_index",
      "/raft/snapshot",
      "/raft/uncommit_index",
      "/session/client-1",
      "/sm/kv/\x02a",
      "/sm/nodes/\x01\x00\x00\x00\x00\x00\x00\x00\x07",
    ]);
  });

  it("zero-pads entry keys so that key order is index order", async () => {
    const { dir, s } = await fresh();
    await s.persistReady({ entries: ents(1, 12, 1) });
    await s.close();
    const indexes = await withRawDb(dir, async (db) =>
      (await allKeys(db)).map(([k]) => k.toString("latin1")).filter((k) => k.startsWith("/raft/entry/")).map((k) => Number(k.slice(12))),
    );
    expect(indexes).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(entryKey(10).toString("latin1")).toBe("/raft/entry/00000000000000000010");
  });

  it("stores numbers as u64 big-endian plus a CRC-32, and the uncommit range as two numbers of fixed size", async () => {
    const { dir, s } = await fresh();
    const sizes: number[] = [];
    for (let i = 1; i <= 20; i++) {
      await s.persistReady({ entries: ents(i, i, 1), hardState: { term: 1, vote: 1, commit: Math.max(0, i - 2) } });
    }
    expect(s.uncommittedRange()).toEqual({ commit: 18, last: 20 });
    await s.close();
    await withRawDb(dir, async (db) => {
      const range = (await db.get(UNCOMMIT_INDEX_KEY))!;
      sizes.push(range.length);
      expect(range.length).toBe(16 + 4);
      expect(range.readUInt32BE(4)).toBe(18);
      expect(range.readUInt32BE(12)).toBe(20);
      const last = (await db.get(LAST_INDEX_KEY))!;
      expect(last.length).toBe(8 + 4);
      expect(last.readUInt32BE(4)).toBe(20);
    });
    const again = await open(dir);
    expect(again.uncommittedRange()).toEqual({ commit: 18, last: 20 });
  });

  it("refuses table names that could leave the table's segment", async () => {
    const { s } = await fresh();
    await s.persistReady({ entries: ents(1, 1, 1), hardState: { term: 1, vote: 1, commit: 1 } });
    for (const table of ["../raft", "a/b", "", "/raft", "kv/../../raft", "tab\u0000le", "ta ble"]) {
      await expectRefused(s.applyBatch([put(table, "x", "y")], 1), "InvalidArgument", "table name");
    }
    expect(s.appliedIndex()).toBe(0);
  });

  it("keeps hostile table keys and client ids under /sm/ and /session/", async () => {
    const { dir, s } = await fresh();
    await s.persistReady({ entries: ents(1, 1, 1), hardState: { term: 1, vote: 1, commit: 1 } });
    const hostile = ["../raft/x", "/raft/last_index", "../../raft/hard_state", "a/b/c", "\u0000", "x\u0000/raft/", "🦀"];
    await s.applyBatch(
      [
        ...hostile.map((k) => put("kv", k, `v:${k}`)),
        ...hostile.map((k): StateOp => ({ type: "putSession", clientId: k, session: { lastSequence: 1, reply: bytes(k) } })),
      ],
      1,
    );
    for (const k of hostile) {
      expect(text((await s.get("kv", k))!)).toBe(`v:${k}`);
      expect(text((await s.getSession(k))!.reply)).toBe(k);
    }
    await s.close();
    await withRawDb(dir, async (db) => {
      const all = await allKeys(db);
      const raft = all.filter(([k]) => k.toString("latin1").startsWith("/raft/"));
      expect(raft.map(([k]) => k.toString("latin1"))).toEqual([
        "/raft/applied_index",
        "/raft/conf_state",
        "/raft/entry/00000000000000000001",
        "/raft/first_index",
        "/raft/hard_state",
        "/raft/last_index",
        "/raft/snapshot",
        "/raft/uncommit_index",
      ]);
      for (const [k] of all) expect(k.toString("latin1")).toMatch(/^\/(meta\/identity$|raft\/|sm\/kv\/|session\/)/);
    });
    const again = await open(dir);
    expect(again.lastIndex()).toBe(1);
    expect(again.hardState()).toEqual({ term: 1, vote: 1, commit: 1 });
  });

  it("refuses keys that UTF-8 cannot hold exactly, and out-of-range numbers", async () => {
    expect(() => stateKey("kv", "\ud800")).toThrow(StorageError);
    expect(() => stateKey("kv", -1)).toThrow(StorageError);
    expect(() => stateKey("kv", 2 ** 53)).toThrow(StorageError);
    expect(() => stateKey("kv", 1n << 64n)).toThrow(StorageError);
    expect(() => sessionKey("")).toThrow(StorageError);
    expect(decodeStateKey(stateKey("kv", (1n << 64n) - 1n))).toEqual({ table: "kv", key: (1n << 64n) - 1n });
  });

  it("encodes table keys in an order-preserving, reversible way that never leaves /sm/<table>/", () => {
    const table = fc.constantFrom("kv", "nodes", "t_1", "A-b");
    const str = fc.string({ unit: "grapheme", maxLength: 12 });
    const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    const cmpStr = (a: string, b: string) => {
      const ca = [...a].map((c) => c.codePointAt(0)!);
      const cb = [...b].map((c) => c.codePointAt(0)!);
      for (let i = 0; i < Math.min(ca.length, cb.length); i++) if (ca[i] !== cb[i]) return Math.sign(ca[i]! - cb[i]!);
      return Math.sign(ca.length - cb.length);
    };
    fc.assert(
      fc.property(table, str, str, (t, a, b) => {
        const ka = stateKey(t, a);
        expect(ka.toString("latin1").startsWith(`/sm/${t}/`)).toBe(true);
        expect(decodeStateKey(ka)).toEqual({ table: t, key: a });
        expect(Math.sign(Buffer.compare(ka, stateKey(t, b)))).toBe(cmpStr(a, b));
      }),
    );
    fc.assert(
      fc.property(table, u64, u64, (t, a, b) => {
        const ka = stateKey(t, a);
        expect(decodeStateKey(ka)).toEqual({ table: t, key: a });
        expect(Math.sign(Buffer.compare(ka, stateKey(t, b)))).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
    );
  });

  it("scans a table in key order, by range, reversed and limited", async () => {
    const { s } = await fresh();
    await s.persistReady({ entries: ents(1, 1, 1), hardState: { term: 1, vote: 1, commit: 1 } });
    const keys = [256, 1, 2 ** 40, 10, 2];
    await s.applyBatch([...keys.map((k) => put("nodes", k, `n${k}`)), put("kv", "b", "B"), put("kv", "a", "A"), put("kv", "ab", "AB")], 1);
    expect((await rows(s, "nodes")).map(([k]) => k)).toEqual([1n, 2n, 10n, 256n, 2n ** 40n]);
    expect(await rows(s, "kv")).toEqual([["a", "A"], ["ab", "AB"], ["b", "B"]]);
    const ranged = await collect(s.scan("nodes", { gte: 2, lt: 256 }));
    expect(ranged.map((r) => r.key)).toEqual([2n, 10n]);
    const rev = await collect(s.scan("nodes", { reverse: true, limit: 2 }));
    expect(rev.map((r) => r.key)).toEqual([2n ** 40n, 256n]);
    expect(await rows(s, "missing")).toEqual([]);
    expect(await s.get("kv", "zz")).toBeUndefined();
  });
});

describe("writes", () => {
  it("applies effects and the applied index in one batch, with the conf state", async () => {
    const { dir, s } = await fresh();
    await s.persistReady({ entries: ents(1, 4, 1), hardState: { term: 1, vote: 1, commit: 3 } });
    const cs = { voters: [1, 2, 3, 4], learners: [] };
    await s.applyBatch([put("kv", "a", "1"), put("kv", "b", "2")], 2);
    await s.applyBatch([{ type: "delete", table: "kv", key: "a" }, put("kv", "c", "3")], 3, cs);
    expect(s.appliedIndex()).toBe(3);
    expect(s.confState()).toEqual(cs);
    await s.close();
    const again = await open(dir);
    expect(again.appliedIndex()).toBe(3);
    expect(again.initialState().confState).toEqual(cs);
    expect(await rows(again, "kv")).toEqual([["b", "2"], ["c", "3"]]);
  });

  it("refuses to apply beyond the commit index or an index twice", async () => {
    const { s } = await fresh();
    await s.persistReady({ entries: ents(1, 4, 1), hardState: { term: 1, vote: 1, commit: 2 } });
    await expectRefused(s.applyBatch([put("kv", "a", "1")], 3), "InvalidArgument", "beyond the persisted commit 2");
    await s.applyBatch([put("kv", "a", "1")], 2);
    await expectRefused(s.applyBatch([put("kv", "a", "2")], 2), "InvalidArgument", "already applied");
    await expectRefused(s.applyBatch([], 1), "InvalidArgument", "below");
    expect(text((await s.get("kv", "a"))!)).toBe("1");
  });

  it("a failed applyBatch changes neither the effects nor the applied index, and stops further writes", async () => {
    let fail = false;
    const { dir, s } = await fresh({
      faults: {
        beforeWrite: (kind) => {
          if (fail && kind === "applyBatch") throw new Error("injected: disk full");
        },
      },
    });
    await s.persistReady({ entries: ents(1, 3, 1), hardState: { term: 1, vote: 1, commit: 3 } });
    await s.applyBatch([put("kv", "a", "1")], 1);
    fail = true;
    await expectRefused(s.applyBatch([put("kv", "a", "2"), put("kv", "b", "2")], 2), "Io", "disk full");
    expect(s.appliedIndex()).toBe(1);
    expect(text((await s.get("kv", "a"))!)).toBe("1");
    expect(await s.get("kv", "b")).toBeUndefined();
    fail = false;
    await expectRefused(s.persistReady({ entries: ents(4, 4, 1) }), "Failed", "earlier write failed");
    await s.close();
    const again = await open(dir);
    expect(again.appliedIndex()).toBe(1);
    expect(await rows(again, "kv")).toEqual([["a", "1"]]);
  });

  it("a failed persistReady leaves the mirror unchanged", async () => {
    let fail = false;
    const { dir, s } = await fresh({ faults: { beforeWrite: () => (fail ? Promise.reject(new Error("injected: EIO")) : undefined) } });
    await s.persistReady({ entries: ents(1, 3, 1), hardState: { term: 1, vote: 1, commit: 1 } });
    fail = true;
    await expectRefused(s.persistReady({ entries: ents(2, 5, 2), hardState: { term: 2, vote: 2, commit: 2 } }), "Io", "persistReady", "EIO");
    expect(s.lastIndex()).toBe(3);
    expect(s.entries(1, 4)).toEqual(ents(1, 3, 1));
    expect(s.hardState()).toEqual({ term: 1, vote: 1, commit: 1 });
    expect(s.uncommittedRange()).toEqual({ commit: 1, last: 3 });
    await s.close();
    const again = await open(dir);
    expect(again.entries(1, 4)).toEqual(ents(1, 3, 1));
  });

  it("refuses Readies that would break Raft's invariants, and changes nothing", async () => {
    const { s } = await fresh();
    await s.persistReady({ entries: ents(1, 4, 2), hardState: { term: 2, vote: 1, commit: 2 } });
    await expectRefused(s.persistReady({ entries: [], hardState: { term: 1, vote: 1, commit: 2 } }), "InvalidArgument", "term 1 is below");
    await expectRefused(s.persistReady({ entries: [], hardState: { term: 2, vote: 3, commit: 2 } }), "InvalidArgument", "already has a vote");
    await expectRefused(s.persistReady({ entries: [], hardState: { term: 2, vote: 1, commit: 1 } }), "InvalidArgument", "commit 1 is below");
    await expectRefused(s.persistReady({ entries: [], hardState: { term: 2, vote: 1, commit: 5 } }), "InvalidArgument", "beyond the last index 4");
    await expectRefused(s.persistReady({ entries: ents(2, 3, 3) }), "InvalidArgument", "conflicts with the committed entry");
    await expectRefused(s.persistReady({ entries: ents(5, 5, 1) }), "InvalidArgument", "below the term 2");
    await expectRefused(s.persistReady({ entries: [...ents(5, 5, 2), ...ents(7, 7, 2)] }), "InvalidArgument", "not contiguous");
    expect(s.hardState()).toEqual({ term: 2, vote: 1, commit: 2 });
    expect(s.lastIndex()).toBe(4);
    // A Ready with nothing new writes nothing and succeeds.
    await s.persistReady({ entries: [], hardState: { term: 2, vote: 1, commit: 2 } });
  });

  it("refuses everything after close, also a snapshot source opened before", async () => {
    const { s } = await fresh();
    const src = await s.openSnapshotSource();
    await s.close();
    await expectRefused(collect(src.chunks()), "Closed");
    await expectRefused(s.persistReady({ entries: ents(1, 1, 1) }), "Closed");
    await expectRefused(s.get("kv", "a"), "Closed");
    await expectRefused(s.openSnapshotSource(), "Closed");
  });
});

describe("writes the node makes to save I/O", () => {
  it("records a commit-only hard state in the apply batch, atomically with the effects", async () => {
    const { dir, s } = await fresh();
    await s.persistReady({ entries: ents(1, 5, 1), hardState: { term: 1, vote: 1, commit: 2 } });
    await s.applyBatch([put("kv", "a", "1")], 4, undefined, { sync: false, commit: 4 });
    expect(s.hardState()).toEqual({ term: 1, vote: 1, commit: 4 });
    expect(s.uncommittedRange()).toEqual({ commit: 4, last: 5 });
    await s.close();
    const again = await open(dir);
    expect(again.hardState()).toEqual({ term: 1, vote: 1, commit: 4 });
    expect(again.appliedIndex()).toBe(4);
    expect(await rows(again, "kv")).toEqual([["a", "1"]]);
  });

  it("refuses a commit going backwards or beyond the log in an apply batch, changing nothing", async () => {
    const { s } = await fresh();
    await s.persistReady({ entries: ents(1, 5, 1), hardState: { term: 1, vote: 1, commit: 3 } });
    await expectRefused(s.applyBatch([put("kv", "a", "1")], 2, undefined, { commit: 2 }), "InvalidArgument", "below the persisted commit");
    await expectRefused(s.applyBatch([put("kv", "a", "1")], 2, undefined, { commit: 9 }), "InvalidArgument", "beyond the last index");
    expect(s.hardState().commit).toBe(3);
    expect(s.appliedIndex()).toBe(0);
  });

  it("skips the fsync of a commit-only Ready but never of entries or a vote", async () => {
    const synced: boolean[] = [];
    const { s } = await fresh();
    const raw = s as unknown as { write(kind: string, ops: unknown, sync?: boolean): Promise<void> };
    const original = raw.write.bind(s);
    raw.write = (kind, ops, sync = true) => {
      if (kind === "persistReady") synced.push(sync);
      return original(kind, ops, sync);
    };
    await s.persistReady({ entries: ents(1, 2, 1), hardState: { term: 1, vote: 1, commit: 0 }, mustSync: false });
    await s.persistReady({ entries: [], hardState: { term: 1, vote: 1, commit: 2 }, mustSync: false });
    await s.persistReady({ entries: [], hardState: { term: 2, vote: 0, commit: 2 }, mustSync: false });
    expect(synced).toEqual([true, false, true]);
  });
});

describe("snapshots", () => {
  /** A node with some state: kv a..e, a session, applied 6 of 8 entries. */
  async function source(): Promise<RocksStorage> {
    const { s } = await fresh();
    await s.persistReady({ entries: [...ents(1, 3, 1), ...ents(4, 8, 2)], hardState: { term: 2, vote: 1, commit: 7 } });
    await s.applyBatch([put("kv", "a", "A"), put("kv", "b", "B"), put("kv", "c", "C")], 4);
    await s.applyBatch(
      [put("kv", "d", "D"), put("nodes", 5, "five"), { type: "putSession", clientId: "cl", session: { lastSequence: 9, reply: bytes("r9") } }],
      6,
    );
    return s;
  }

  it("a source is a point-in-time view: writes after capture do not show", async () => {
    const a = await source();
    const src = await a.openSnapshotSource({ chunkBytes: 32 });
    expect(src.metadata).toEqual({ index: 6, term: 2, confState: CS });
    await a.applyBatch([{ type: "delete", table: "kv", key: "a" }, put("kv", "b", "B2"), put("kv", "z", "Z")], 7);
    const chunks = await collect(src.chunks());
    const records: Array<[string, string]> = [];
    await decodeSnapshotStream(stream(chunks), (k, v) => records.push([Buffer.from(k).toString("latin1"), text(v)]), src.metadata);
    expect(records).toEqual([
      ["/session/cl", "\u0001" + "\u0000".repeat(7) + "\u0009r9"],
      ["/sm/kv/\u0002a", "A"],
      ["/sm/kv/\u0002b", "B"],
      ["/sm/kv/\u0002c", "C"],
      ["/sm/kv/\u0002d", "D"],
      ["/sm/nodes/\u0001" + "\u0000".repeat(7) + "\u0005", "five"],
    ]);
    // Every chunk has exactly chunkBytes bytes but the last.
    expect(chunks.slice(0, -1).every((c) => c.length === 32)).toBe(true);
    expect(chunks.at(-1)!.length).toBeGreaterThan(0);
    expect(chunks.at(-1)!.length).toBeLessThanOrEqual(32);
  });

  it("uses 1 MiB chunks by default and never streams /raft/ keys", async () => {
    const { s } = await fresh();
    await s.persistReady({ entries: ents(1, 2, 1), hardState: { term: 1, vote: 1, commit: 2 } });
    const big = new Uint8Array(700 * 1024).fill(7);
    await s.applyBatch([0, 1, 2].map((i): StateOp => ({ type: "put", table: "blob", key: i, value: big })), 2);
    const src = await s.openSnapshotSource();
    const chunks = await collect(src.chunks());
    const total = chunks.reduce((n, c) => n + c.length, 0);
    expect(total).toBeGreaterThan(3 * 700 * 1024);
    expect(chunks.length).toBe(Math.ceil(total / (1024 * 1024)));
    expect(chunks.slice(0, -1).every((c) => c.length === 1024 * 1024)).toBe(true);
    const keys: string[] = [];
    await decodeSnapshotStream(stream(chunks), (k) => keys.push(Buffer.from(k).toString("latin1")));
    expect(keys.every((k) => k.startsWith("/sm/") || k.startsWith("/session/"))).toBe(true);
    expect(concat(chunks).includes(0x2f) && Buffer.from(concat(chunks)).includes("/raft/")).toBe(false);
  });

  it("round trip: the receiver's state becomes the sender's, atomically with the Raft keys", async () => {
    const a = await source();
    const src = await a.openSnapshotSource({ chunkBytes: 7 });
    const chunks = await collect(src.chunks());
    const { dir, s: b } = await fresh({ nodeId: 2 });
    // The receiver has stale state of its own that the snapshot must replace entirely.
    await b.persistReady({ entries: ents(1, 2, 1), hardState: { term: 1, vote: 2, commit: 2 } });
    await b.applyBatch([put("kv", "a", "old"), put("kv", "stale", "x"), put("other", "k", "v")], 2);
    await b.installSnapshot(src.metadata, stream(chunks));
    const check = async (s: RocksStorage) => {
      expect(s.appliedIndex()).toBe(6);
      expect(s.firstIndex()).toBe(7);
      expect(s.lastIndex()).toBe(6);
      expect(s.term(6)).toBe(2);
      expect(s.hardState()).toEqual({ term: 2, vote: 0, commit: 6 });
      expect(s.snapshot(0, 0).metadata).toEqual(src.metadata);
      expect(s.confState()).toEqual(CS);
      expect(await rows(s, "kv")).toEqual([["a", "A"], ["b", "B"], ["c", "C"], ["d", "D"]]);
      expect(await rows(s, "nodes")).toEqual([[5n, "five"]]);
      expect(await rows(s, "other")).toEqual([]);
      expect(await s.getSession("cl")).toEqual({ lastSequence: 9, reply: bytes("r9") });
    };
    await check(b);
    await b.close();
    await check(await open(dir, { nodeId: 2 }));
  });

  it("keeps the log after the snapshot when the log already matches it", async () => {
    const { s } = await fresh({ nodeId: 2 });
    await s.persistReady({ entries: [...ents(1, 3, 1), ...ents(4, 8, 2)], hardState: { term: 2, vote: 1, commit: 5 } });
    const md: SnapshotMetadata = { index: 6, term: 2, confState: CS };
    await s.installSnapshot(md, encodeSnapshotStream(md, [[stateKey("kv", "k"), bytes("v")]]));
    expect(s.firstIndex()).toBe(7);
    expect(s.lastIndex()).toBe(8);
    expect(s.entries(7, 9)).toEqual(ents(7, 8, 2));
    expect(s.hardState().commit).toBe(6);
    expect(s.appliedIndex()).toBe(6);
  });

  it("installs the data of a snapshot persisted by an earlier Ready", async () => {
    const { s } = await fresh({ nodeId: 2 });
    await s.persistReady({ entries: ents(1, 2, 1), hardState: { term: 1, vote: 0, commit: 1 } });
    const md: SnapshotMetadata = { index: 10, term: 3, confState: CS };
    await s.persistReady({ entries: ents(11, 12, 3), hardState: { term: 3, vote: 0, commit: 10 }, snapshot: { data: new Uint8Array(0), metadata: md } });
    expect(s.firstIndex()).toBe(11);
    expect(s.lastIndex()).toBe(12);
    expect(s.appliedIndex()).toBe(0);
    await expectRefused(s.openSnapshotSource(), "Unavailable", "not installed");
    await s.installSnapshot(md, encodeSnapshotStream(md, [[stateKey("kv", "k"), bytes("v")]]));
    expect(s.appliedIndex()).toBe(10);
    expect(s.entries(11, 13)).toEqual(ents(11, 12, 3));
    expect(text((await s.get("kv", "k"))!)).toBe("v");
  });

  it("rejects a corrupted, truncated, reordered or foreign stream and changes nothing", async () => {
    const a = await source();
    const src = await a.openSnapshotSource({ chunkBytes: 16 });
    const chunks = await collect(src.chunks());
    const whole = concat(chunks);
    const { dir, s: b } = await fresh({ nodeId: 2 });
    await b.persistReady({ entries: ents(1, 2, 1), hardState: { term: 1, vote: 2, commit: 2 } });
    await b.applyBatch([put("kv", "mine", "1")], 2);
    const before = async () => ({
      rows: await rows(b, "kv"),
      applied: b.appliedIndex(),
      log: [b.firstIndex(), b.lastIndex()],
      hs: b.hardState(),
      snap: b.snapshotMetadata(),
    });
    const expected = await before();
    const md = src.metadata;
    const flipped = Uint8Array.from(whole);
    flipped[Math.floor(whole.length / 2)]! ^= 0x20;
    const cases: Array<[string, AsyncIterable<Uint8Array>, SnapshotMetadata, string]> = [
      ["flipped byte", stream([flipped]), md, ""],
      ["truncated: last chunk dropped", stream(chunks.slice(0, -1)), md, "truncated"],
      ["truncated mid-record", stream([whole.subarray(0, 60)]), md, "truncated"],
      ["empty stream", stream([]), md, "truncated"],
      ["bytes after the trailer", stream([...chunks, Uint8Array.of(0)]), md, "after the trailer"],
      ["header differs from the metadata", stream(chunks), { ...md, index: 7 }, "does not match"],
      ["a /raft/ key", encodeSnapshotStream(md, [[Buffer.from("/raft/hard_state"), bytes("x")]]), md, "neither a /sm/ nor a /session/ key"],
      ["keys out of order", encodeSnapshotStream(md, [[stateKey("kv", "b"), bytes("")], [stateKey("kv", "a"), bytes("")]]), md, "not above the previous key"],
      ["not a snapshot", stream([bytes("hello world, this is not a snapshot stream at all")]), md, "bad magic"],
    ];
    for (const [name, chunksOf, meta, fragment] of cases) {
      const err = await refusal(b.installSnapshot(meta, chunksOf));
      expect(err.code, name).toBe("SnapshotCorrupt");
      expect(err.message, name).toContain(fragment);
      expect(await before(), name).toEqual(expected);
    }
    await b.close();
    const again = await open(dir, { nodeId: 2 });
    expect(await rows(again, "kv")).toEqual([["mine", "1"]]);
    expect(again.appliedIndex()).toBe(2);
  });

  it("refuses a snapshot that is not beyond the applied index", async () => {
    const a = await source();
    const md: SnapshotMetadata = { index: 6, term: 2, confState: CS };
    await expectRefused(a.installSnapshot(md, encodeSnapshotStream(md, [])), "SnapshotOutOfDate");
  });

  it("streams the same bytes twice from an unchanged state", async () => {
    const a = await source();
    const one = concat(await collect((await a.openSnapshotSource({ chunkBytes: 100 })).chunks()));
    const two = concat(await collect((await a.openSnapshotSource({ chunkBytes: 3 })).chunks()));
    expect(Buffer.from(one).equals(Buffer.from(two))).toBe(true);
  });

  it("createSnapshot records metadata only, up to the applied index", async () => {
    const a = await source();
    await expectRefused(a.createSnapshot(7, CS), "InvalidArgument", "beyond the applied index 6");
    const md = await a.createSnapshot(6, CS);
    expect(md).toEqual({ index: 6, term: 2, confState: CS });
    expect(a.snapshot(0, 0).data.length).toBe(0);
    await a.compact(6);
    expect(a.firstIndex()).toBe(7);
    await expectRefused(a.compact(7), "InvalidArgument", "beyond the snapshot index 6");
  });
});
