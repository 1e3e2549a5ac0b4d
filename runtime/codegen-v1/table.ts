// Typed state tables: what handlers see of the node's key/value tables. A table converts its
// keys to the storage's order-preserving TableKey and its values to protobuf bytes (through
// the CompiledService), over runtime/node's Transaction (commands) or ReadView (queries).
//
// Keys in TypeScript and in storage (GENERATOR-PLAN "Table keys"):
//   string  -> the string itself
//   uint64  -> bigint in [0, 2^64-1]          stored as that uint64
//   uint32  -> number, integer in [0, 2^32-1]  stored as that uint64
//   int64   -> bigint in [-2^63, 2^63-1]      stored as the uint64 x + 2^63, so that byte
//                                              order is numeric order, negatives first
// Iteration (keys(), values(), entries()) is in key order, the same on every node.
//
// A bad key or value throws (a TypeError/CodecError naming the table): inside a handler that
// fails the command and changes nothing. Values handed out by get() are fresh objects:
// changing one changes nothing stored until it is put back.
//
// A query's table has no put/delete at all, not only in its type. Tables stop working when
// their handler returns (a guard against async handlers writing later). This module does no
// I/O.

import type { ReadView, TableKey, Transaction } from "../node/state-machine.js";
import type { CompiledService } from "./codec.js";
import type { KeyTypeName } from "./descriptor.js";

/** Read access to one table (queries, and the read part of a command's table). */
export interface ReadonlyTable<K, V> {
  /** The row under `key`, or undefined. */
  get(key: K): V | undefined;
  has(key: K): boolean;
  /** Number of rows. */
  readonly size: number;
  /** Keys in key order. */
  keys(): IterableIterator<K>;
  /** Values in key order. */
  values(): IterableIterator<V>;
  /** [key, value] pairs in key order. */
  entries(): IterableIterator<[K, V]>;
  [Symbol.iterator](): IterableIterator<[K, V]>;
}

/** A table in a command: reads see the command's own writes; all of them are dropped if it throws. */
export interface Table<K, V> extends ReadonlyTable<K, V> {
  /** Insert or replace the row under `key`. */
  put(key: K, value: V): void;
  /** Remove the row under `key`; true if there was one. */
  delete(key: K): boolean;
}

const INT64_OFFSET = 1n << 63n;
const UINT64_MAX = (1n << 64n) - 1n;
const UINT32_MAX = 2 ** 32 - 1;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function describeKey(k: unknown): string {
  if (typeof k === "bigint") return `${k}n`;
  if (typeof k === "string") return JSON.stringify(k);
  if (typeof k === "number") return String(k);
  return k === null ? "null" : typeof k;
}

/** TypeScript key -> storage key; throws a TypeError naming the table for a bad key. */
export function toStorageKey(table: string, type: KeyTypeName, key: unknown): TableKey {
  const bad = (why: string) => new TypeError(`table ${table}: key ${describeKey(key)} ${why}`);
  switch (type) {
    case "string":
      if (typeof key !== "string") throw bad("is not a string");
      if (LONE_SURROGATE.test(key)) throw bad("contains a lone surrogate (not valid Unicode)");
      return key;
    case "uint64":
      if (typeof key !== "bigint") throw bad("is not a bigint (uint64 key)");
      if (key < 0n || key > UINT64_MAX) throw bad("is out of the uint64 range");
      return key;
    case "int64":
      if (typeof key !== "bigint") throw bad("is not a bigint (int64 key)");
      if (key < -INT64_OFFSET || key >= INT64_OFFSET) throw bad("is out of the int64 range");
      return key + INT64_OFFSET;
    case "uint32":
      if (typeof key !== "number") throw bad("is not a number (uint32 key)");
      if (!Number.isInteger(key) || key < 0 || key > UINT32_MAX) throw bad("is not a uint32 (an integer in [0, 2^32-1])");
      return key;
  }
}

/** Storage key (as iteration yields it) -> TypeScript key. */
export function fromStorageKey(table: string, type: KeyTypeName, key: string | number | bigint): string | number | bigint {
  if (type === "string") {
    if (typeof key !== "string") throw new TypeError(`table ${table}: stored key ${describeKey(key)} is not a string key`);
    return key;
  }
  if (typeof key === "string") throw new TypeError(`table ${table}: stored key ${describeKey(key)} is not a ${type} key`);
  const big = BigInt(key);
  if (type === "uint64") return big;
  if (type === "int64") return big - INT64_OFFSET;
  if (big > BigInt(UINT32_MAX)) throw new TypeError(`table ${table}: stored key ${big} is not a uint32 key`);
  return Number(big);
}

/** Whether the handler that owns a set of tables is still running. */
export interface TableScope {
  open: boolean;
}

/** One table over a ReadView; the base of both kinds. */
class ViewTable<K, V> implements ReadonlyTable<K, V> {
  constructor(
    protected readonly view: ReadView,
    protected readonly service: CompiledService,
    protected readonly table: string,
    protected readonly keyType: KeyTypeName,
    protected readonly scope: TableScope,
  ) {}

  protected check(): void {
    if (!this.scope.open) {
      throw new Error(`table ${this.table} used after its handler returned (handlers must be synchronous)`);
    }
  }

  protected key(key: K): TableKey {
    this.check();
    return toStorageKey(this.table, this.keyType, key);
  }

  get(key: K): V | undefined {
    const bytes = this.view.get(this.table, this.key(key));
    return bytes === undefined ? undefined : this.service.decodeTableValue<V>(this.table, bytes);
  }

  has(key: K): boolean {
    return this.view.has(this.table, this.key(key));
  }

  get size(): number {
    this.check();
    return this.view.size(this.table);
  }

  *entries(): IterableIterator<[K, V]> {
    this.check();
    for (const [k, bytes] of this.view.entries(this.table)) {
      this.check();
      yield [fromStorageKey(this.table, this.keyType, k) as K, this.service.decodeTableValue<V>(this.table, bytes)];
    }
  }

  *keys(): IterableIterator<K> {
    this.check();
    for (const [k] of this.view.entries(this.table)) {
      this.check();
      yield fromStorageKey(this.table, this.keyType, k) as K;
    }
  }

  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }
}

/** A query's table: read-only (no put/delete methods exist). */
export class ReadonlyTableImpl<K, V> extends ViewTable<K, V> {}

/** A command's table over its transaction. */
export class TableImpl<K, V> extends ViewTable<K, V> implements Table<K, V> {
  constructor(
    private readonly tx: Transaction,
    service: CompiledService,
    table: string,
    keyType: KeyTypeName,
    scope: TableScope,
  ) {
    super(tx, service, table, keyType, scope);
  }

  put(key: K, value: V): void {
    const k = this.key(key);
    this.tx.put(this.table, k, this.service.encodeTableValue(this.table, value));
  }

  delete(key: K): boolean {
    return this.tx.delete(this.table, this.key(key));
  }
}

/**
 * The state object of a handler: one table per table of the service, under its `ts` name.
 * With a Transaction the tables are writable (commands), with a ReadView read-only (queries).
 */
export function createState(service: CompiledService, source: { tx: Transaction } | { view: ReadView }, scope: TableScope): Readonly<Record<string, ReadonlyTable<unknown, unknown>>> {
  const state: Record<string, ReadonlyTable<unknown, unknown>> = {};
  for (const [name, t] of service.tables) {
    state[t.ts] = "tx" in source ? new TableImpl(source.tx, service, name, t.key, scope) : new ReadonlyTableImpl(source.view, service, name, t.key, scope);
  }
  return Object.freeze(state);
}
