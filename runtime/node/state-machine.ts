// The state machine interface the generator targets, and the in-memory state store it runs
// on.
//
// Handlers are synchronous and deterministic (DESIGN), so table access must be synchronous:
// a node keeps its state tables in memory (loaded from RocksDB `/sm/` at start-up, written
// through with each applied batch). This is the classic shape of a replicated metadata store
// (the seed's placement center keeps its metadata the same way); it bounds the state by
// memory, which the README says.
//
// A command runs in a Transaction: reads see its own writes; if the handler throws, the
// transaction is dropped and nothing changes (DESIGN: "A handler that throws fails that one
// command ... and changes nothing").
// Keys are strings or uint64 (number or bigint), encoded exactly as runtime/storage encodes
// them on disk, so that iteration order is key order on every node and after a restart.
//
// This module does no I/O.

import { decodeKeyBody, encodeKeyBody, type TableKey } from "../storage/index.js";

export type { TableKey };

/** A table key as iteration yields it: uint64 keys as number when safe, else bigint. */
export type Key = string | number | bigint;

/** One write of an applied command, as the storage persists it under /sm/<table>/<key>. */
export interface StateOp {
  table: string;
  key: TableKey;
  /** undefined = delete */
  value: Uint8Array | undefined;
}

/** Read access to the tables (queries get this). */
export interface ReadView {
  get(table: string, key: TableKey): Uint8Array | undefined;
  has(table: string, key: TableKey): boolean;
  /** Entries of a table in key order (the storage's order-preserving key encoding). */
  entries(table: string): IterableIterator<[Key, Uint8Array]>;
  size(table: string): number;
}

/** Read-write access for one command; see the file comment. */
export interface Transaction extends ReadView {
  put(table: string, key: TableKey, value: Uint8Array): void;
  delete(table: string, key: TableKey): boolean;
}

/** What the command handlers see of the entry that carries their command. */
export interface EntryInfo {
  index: number;
  term: number;
  /** Chosen once by the proposer (ms since the epoch): the same on every node. */
  timestamp: number;
}

/**
 * The application: generated code implements it over the user's handlers. Both methods are
 * synchronous and deterministic; `apply` throwing fails the command (its message goes back
 * to the caller), `query` throwing fails the query.
 */
export interface StateMachine {
  /** Table names of the spec; anything else is refused. */
  readonly tables: readonly string[];
  apply(command: string, payload: Uint8Array, tx: Transaction, entry: EntryInfo): Uint8Array;
  query(query: string, payload: Uint8Array, view: ReadView): Uint8Array;
  /** Whether `command` / `query` exist (checked before proposing, so typos fail fast). */
  hasCommand(command: string): boolean;
  hasQuery(query: string): boolean;
  /**
   * Optional gateway checks of a payload, run before a command is proposed or a query runs:
   * throwing refuses the call with InvalidArgument (the error's message), so malformed input
   * never reaches the log. Called only for names hasCommand/hasQuery accept.
   */
  checkCommand?(command: string, payload: Uint8Array): void;
  checkQuery?(query: string, payload: Uint8Array): void;
}

/** The in-memory form of a key: its storage encoding as a latin1 string (order-preserving). */
function memKey(key: TableKey): string {
  return encodeKeyBody(key).toString("latin1");
}

function fromMemKey(k: string): Key {
  const d = decodeKeyBody(Buffer.from(k, "latin1"));
  return typeof d === "bigint" && d <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(d) : d;
}

interface Row {
  key: TableKey;
  value: Uint8Array;
}

/** The in-memory tables of a node. */
export class StateStore implements ReadView {
  private readonly tables = new Map<string, Map<string, Row>>();
  /** Sorted key lists, rebuilt lazily after inserts and deletes. */
  private readonly sorted = new Map<string, string[]>();

  constructor(readonly tableNames: readonly string[]) {
    for (const t of tableNames) this.tables.set(t, new Map());
  }

  private table(name: string): Map<string, Row> {
    const t = this.tables.get(name);
    if (!t) throw new RangeError(`unknown table ${JSON.stringify(name)}`);
    return t;
  }

  get(table: string, key: TableKey): Uint8Array | undefined {
    return this.table(table).get(memKey(key))?.value;
  }

  /** get() by the in-memory key form (for transactions). */
  getRaw(table: string, k: string): Uint8Array | undefined {
    return this.table(table).get(k)?.value;
  }

  has(table: string, key: TableKey): boolean {
    return this.table(table).has(memKey(key));
  }

  size(table: string): number {
    return this.table(table).size;
  }

  /** Sorted in-memory keys of a table. */
  sortedKeys(table: string): string[] {
    const t = this.table(table);
    let keys = this.sorted.get(table);
    if (!keys) {
      keys = [...t.keys()].sort();
      this.sorted.set(table, keys);
    }
    return keys;
  }

  *entries(table: string): IterableIterator<[Key, Uint8Array]> {
    const t = this.table(table);
    for (const k of this.sortedKeys(table)) {
      const row = t.get(k);
      if (row) yield [fromMemKey(k), row.value];
    }
  }

  /** Apply committed writes (from a transaction, or loaded from storage). */
  applyOps(ops: readonly StateOp[]): void {
    for (const op of ops) {
      const t = this.table(op.table);
      const k = memKey(op.key);
      const had = t.has(k);
      if (op.value === undefined) t.delete(k);
      else t.set(k, { key: op.key, value: op.value });
      if (had !== (op.value !== undefined)) this.sorted.delete(op.table);
    }
  }

  /** Forget everything (before installing a snapshot). */
  clear(): void {
    for (const t of this.tables.values()) t.clear();
    this.sorted.clear();
  }

  begin(): StoreTransaction {
    return new StoreTransaction(this);
  }
}

/** A write overlay over the store; `ops()` lists its writes. */
export class StoreTransaction implements Transaction {
  private readonly writes = new Map<string, Map<string, { key: TableKey; value: Uint8Array | undefined }>>();

  constructor(private readonly base: StateStore) {}

  private overlay(table: string) {
    this.base.size(table); // validates the table name
    let w = this.writes.get(table);
    if (!w) {
      w = new Map();
      this.writes.set(table, w);
    }
    return w;
  }

  get(table: string, key: TableKey): Uint8Array | undefined {
    const w = this.writes.get(table);
    const k = memKey(key);
    if (w && w.has(k)) return w.get(k)!.value;
    return this.base.getRaw(table, k);
  }

  has(table: string, key: TableKey): boolean {
    return this.get(table, key) !== undefined;
  }

  put(table: string, key: TableKey, value: Uint8Array): void {
    if (!(value instanceof Uint8Array)) throw new TypeError(`value for table ${table} must be bytes`);
    this.overlay(table).set(memKey(key), { key, value });
  }

  delete(table: string, key: TableKey): boolean {
    const had = this.has(table, key);
    this.overlay(table).set(memKey(key), { key, value: undefined });
    return had;
  }

  size(table: string): number {
    let n = this.base.size(table);
    const w = this.writes.get(table);
    if (w) {
      for (const [k, { value }] of w) {
        const inBase = this.base.getRaw(table, k) !== undefined;
        if (inBase && value === undefined) n--;
        else if (!inBase && value !== undefined) n++;
      }
    }
    return n;
  }

  *entries(table: string): IterableIterator<[Key, Uint8Array]> {
    const w = this.writes.get(table);
    if (!w || w.size === 0) {
      yield* this.base.entries(table);
      return;
    }
    const keys = new Set(this.base.sortedKeys(table));
    for (const k of w.keys()) keys.add(k);
    for (const k of [...keys].sort()) {
      const o = w.get(k);
      const v = o ? o.value : this.base.getRaw(table, k);
      if (v !== undefined) yield [fromMemKey(k), v];
    }
  }

  ops(): StateOp[] {
    const out: StateOp[] = [];
    for (const [table, w] of this.writes) for (const { key, value } of w.values()) out.push({ table, key, value });
    return out;
  }
}
