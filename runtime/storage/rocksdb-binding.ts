// A typed, promise-based wrapper around the `rocksdb` package (Level/rocksdb 5, a leveldown-style
// N-API binding that ships no TypeScript types). Only what runtime/storage needs: open, get,
// atomic batches with `sync`, chained batches (to build a large batch natively without holding
// it in JS memory), iterators with seek, close.
//
// Two traps of the binding this wrapper removes:
// - It stores `String(x)` for any key or value that is not a Buffer, so a plain Uint8Array
//   would be written as the text "1,2,3". Every key and value goes through `asBuffer` here.
// - A missing key is an Error whose message starts with "NotFound"; `get` returns undefined.
//
// An iterator reads from an implicit point-in-time snapshot of the database taken when it is
// created (synchronously, in `iterator()`); `seek` stays within that snapshot.
//
// This file must not know the key layout or any Raft type: it moves bytes.

import { createRequire } from "node:module";

/** The raw callback API of a leveldown-style database, as much of it as we call. */
interface RawDb {
  open(options: RawOpenOptions, cb: (err?: Error | null) => void): void;
  close(cb: (err?: Error | null) => void): void;
  get(key: Buffer, options: { asBuffer: boolean; fillCache?: boolean }, cb: (err: Error | null | undefined, value?: Buffer) => void): void;
  batch(ops: RawOp[], options: { sync: boolean }, cb: (err?: Error | null) => void): void;
  batch(): RawChainedBatch;
  iterator(options: RawIteratorOptions): RawIterator;
}

interface RawOpenOptions {
  createIfMissing: boolean;
  errorIfExists: boolean;
  infoLogLevel?: string;
}

type RawOp = { type: "put"; key: Buffer; value: Buffer } | { type: "del"; key: Buffer };

interface RawChainedBatch {
  put(key: Buffer, value: Buffer): RawChainedBatch;
  del(key: Buffer): RawChainedBatch;
  clear(): RawChainedBatch;
  write(options: { sync: boolean }, cb: (err?: Error | null) => void): void;
}

interface RawIteratorOptions {
  gte?: Buffer;
  lt?: Buffer;
  reverse?: boolean;
  keyAsBuffer: true;
  valueAsBuffer: true;
  highWaterMark?: number;
}

interface RawIterator {
  next(cb: (err: Error | null | undefined, key?: Buffer, value?: Buffer) => void): void;
  seek(target: Buffer): void;
  end(cb: (err?: Error | null) => void): void;
}

const require = createRequire(import.meta.url);
const rocksdb = require("rocksdb") as (location: string) => RawDb;

/** A view of `bytes` as a Buffer, without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** One operation of an atomic batch. */
export type BatchOp = { type: "put"; key: Uint8Array; value: Uint8Array } | { type: "del"; key: Uint8Array };

/** A key range: keys k with gte <= k < lt (byte order); either bound may be left out. */
export interface KeyRange {
  gte?: Uint8Array;
  lt?: Uint8Array;
  reverse?: boolean;
  /** Bytes the binding reads ahead per native call (default 16 KiB). */
  highWaterMark?: number;
}

function callback(resolve: () => void, reject: (err: Error) => void) {
  return (err?: Error | null) => (err ? reject(err) : resolve());
}

/** A batch built natively op by op and written atomically once (RocksDB WriteBatch). */
export class ChainedBatch {
  private count = 0;
  private written = false;

  constructor(private readonly raw: RawChainedBatch) {}

  put(key: Uint8Array, value: Uint8Array): void {
    this.raw.put(asBuffer(key), asBuffer(value));
    this.count++;
  }

  del(key: Uint8Array): void {
    this.raw.del(asBuffer(key));
    this.count++;
  }

  /** Drop every op (frees the native memory early when the batch is abandoned). No-op once written. */
  clear(): void {
    if (this.written) return;
    this.raw.clear();
    this.count = 0;
  }

  /** Number of ops added since creation or the last clear(). */
  get length(): number {
    return this.count;
  }

  /** Write the batch atomically (once); with sync the promise resolves after the fsync. */
  write(options: { sync: boolean }): Promise<void> {
    this.written = true;
    return new Promise((resolve, reject) => this.raw.write({ sync: options.sync }, callback(resolve, reject)));
  }
}

/** An iterator over a point-in-time view (taken when it was created). */
export class RocksIterator {
  private ending: Promise<void> | undefined;

  constructor(
    private readonly raw: RawIterator,
    private readonly onEnd: (it: RocksIterator) => void,
  ) {}

  /** Whether end() was called (by the owner or by the database closing). */
  get ended(): boolean {
    return this.ending !== undefined;
  }

  /** The next [key, value], or undefined at the end of the range. */
  next(): Promise<[Buffer, Buffer] | undefined> {
    if (this.ending) return Promise.reject(new Error("iterator has ended"));
    return new Promise((resolve, reject) =>
      this.raw.next((err, key, value) => {
        if (err) reject(err);
        else if (key === undefined || value === undefined) resolve(undefined);
        else resolve([key, value]);
      }),
    );
  }

  /** Move to the first key >= target (within the range and the same point-in-time view). */
  seek(target: Uint8Array): void {
    if (this.ending) throw new Error("iterator has ended");
    this.raw.seek(asBuffer(target));
  }

  /**
   * Release the iterator and its snapshot. Idempotent: the binding never calls back a second
   * end() of the same iterator, so every call after the first shares the first one's promise.
   */
  end(): Promise<void> {
    if (this.ending === undefined) {
      this.ending = new Promise<void>((resolve, reject) => this.raw.end(callback(resolve, reject))).finally(() => this.onEnd(this));
    }
    return this.ending;
  }
}

/** An open RocksDB database. */
export class RocksDb {
  private readonly iterators = new Set<RocksIterator>();

  private constructor(
    private readonly raw: RawDb,
    readonly location: string,
  ) {}

  /** Open (and with createIfMissing create) the database in `location`. */
  static open(location: string, options: { createIfMissing: boolean }): Promise<RocksDb> {
    const raw = rocksdb(location);
    return new Promise((resolve, reject) =>
      raw.open(
        { createIfMissing: options.createIfMissing, errorIfExists: false },
        callback(() => resolve(new RocksDb(raw, location)), reject),
      ),
    );
  }

  /** The value of `key`, or undefined when there is none. */
  get(key: Uint8Array): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) =>
      this.raw.get(asBuffer(key), { asBuffer: true }, (err, value) => {
        if (err) {
          if (/^NotFound/.test(err.message)) resolve(undefined);
          else reject(err);
        } else {
          resolve(value);
        }
      }),
    );
  }

  /** Write `ops` atomically; with sync the promise resolves after the WAL is fsynced. */
  write(ops: readonly BatchOp[], options: { sync: boolean }): Promise<void> {
    const raw: RawOp[] = ops.map((op) =>
      op.type === "put" ? { type: "put", key: asBuffer(op.key), value: asBuffer(op.value) } : { type: "del", key: asBuffer(op.key) },
    );
    return new Promise((resolve, reject) => this.raw.batch(raw, { sync: options.sync }, callback(resolve, reject)));
  }

  /** A batch to fill op by op (native memory) and write once. */
  chainedBatch(): ChainedBatch {
    return new ChainedBatch(this.raw.batch());
  }

  /** An iterator over `range`, reading from a snapshot taken now (synchronously). */
  iterator(range: KeyRange): RocksIterator {
    const options: RawIteratorOptions = { keyAsBuffer: true, valueAsBuffer: true };
    if (range.gte !== undefined) options.gte = asBuffer(range.gte);
    if (range.lt !== undefined) options.lt = asBuffer(range.lt);
    if (range.reverse) options.reverse = true;
    if (range.highWaterMark !== undefined) options.highWaterMark = range.highWaterMark;
    const it = new RocksIterator(this.raw.iterator(options), (done) => this.iterators.delete(done));
    this.iterators.add(it);
    return it;
  }

  /** End every open iterator (their snapshots are released), then close the database. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.iterators].map((it) => it.end()));
    await new Promise<void>((resolve, reject) => this.raw.close(callback(resolve, reject)));
  }
}
