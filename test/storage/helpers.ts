// Small helpers shared by the storage tests: temp directories (mkdtemp, removed after each
// test), entry builders, chunk collection, and raw access to a RocksDB directory for tampering.
// Nothing here keeps state between tests except the list of directories to clean up.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { RocksDb } from "../../runtime/storage/rocksdb-binding.js";
import type { ConfState, Entry } from "../../runtime/raft/types.js";

const dirs: string[] = [];

/** A fresh directory under the OS temp dir; removed by cleanupDirs(). */
export async function tempDir(prefix = "raftgen-storage-"): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Remove every directory tempDir() made (call in afterEach/afterAll). */
export async function cleanupDirs(): Promise<void> {
  const all = dirs.splice(0, dirs.length);
  await Promise.all(all.map((d) => rm(d, { recursive: true, force: true })));
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export const bytes = (s: string): Uint8Array => enc.encode(s);
export const text = (b: Uint8Array): string => dec.decode(b);

/** Entries [from, to] of `term`, with data `"<index>@<term>"` unless given. */
export function ents(from: number, to: number, term: number, data?: (i: number) => Uint8Array): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) {
    out.push({ type: 0, term, index: i, data: data ? data(i) : bytes(`${i}@${term}`), context: new Uint8Array(0) });
  }
  return out;
}

export const CS: ConfState = { voters: [1, 2, 3], learners: [] };

/** All chunks of an async iterable. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** An async iterable over `chunks`. */
export async function* stream(chunks: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c;
}

/** Concatenate chunks. */
export function concat(chunks: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(chunks));
}

/** Open the directory's RocksDB directly (no validation), run `fn`, close it. */
export async function withRawDb<T>(dir: string, fn: (db: RocksDb) => Promise<T>): Promise<T> {
  const db = await RocksDb.open(dir, { createIfMissing: false });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Every key/value of a database, in key order. */
export async function allKeys(db: RocksDb): Promise<Array<[Buffer, Buffer]>> {
  const it = db.iterator({});
  const out: Array<[Buffer, Buffer]> = [];
  try {
    for (let kv = await it.next(); kv !== undefined; kv = await it.next()) out.push(kv);
  } finally {
    await it.end();
  }
  return out;
}

/** The outcome of a call, normalised so that two storages' errors can be compared. */
export async function outcome(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === "function" ? p() : p);
    return "ok";
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === "Compacted" || code === "Unavailable" || code === "SnapshotOutOfDate") return code;
    return "rejected";
  }
}
