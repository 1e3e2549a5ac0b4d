// The byte stream a snapshot travels as: from a RocksStorage snapshot source (a point-in-time
// iterator over /sm/ and /session/) through the transport's SendSnapshot stream to the
// receiver's RocksStorage.installSnapshot. The framing, all integers big-endian:
//
//   header   "raftsnap" (8 bytes) | u32 version = 1 | u64 index | u64 term
//            | u32 n | n bytes: eraftpb ConfState
//   record   0x01 | u32 key length | key | u32 value length | value       (zero or more)
//   trailer  0x00 | u64 record count | u64 index (again) | u32 CRC-32
//
// `index`/`term`/ConfState are the metadata of the data: the applied index the state machine
// was at when the view was captured, that entry's term, and the configuration as of it. Keys
// are /sm/ or /session/ keys only (never /raft/ or /meta/: seed flaw 5), strictly ascending, at
// most MAX_KEY_BYTES; values at most MAX_VALUE_BYTES. The CRC-32 (zlib's) covers every byte of
// the stream before it. The stream is cut into chunks of exactly `chunkBytes` bytes (the last
// one shorter); records may straddle chunks, so a receiver must not assume alignment.
//
// The decoder validates everything above and throws StorageError("SnapshotCorrupt") naming
// the problem and the byte offset; it hands records to a callback as it goes, so a caller must
// buffer them and commit only after the decoder returned (installSnapshot does).
//
// This file must not do I/O or know RocksDB: it turns records into chunks and back.

import { crc32 } from "node:zlib";
import { CodecError, decodeConfState, encodeConfState } from "../codec/eraftpb.js";
import type { ConfState, SnapshotMetadata } from "../raft/types.js";
import { StorageError } from "./errors.js";
import { MAX_KEY_BYTES, MAX_VALUE_BYTES, checkStateOrSessionKey, compareBytes, keyText } from "./keys.js";
import { readU64, writeU64 } from "./values.js";

/** The first 8 bytes of every snapshot stream. */
export const SNAPSHOT_MAGIC: Buffer = Buffer.from("raftsnap", "latin1");
/** Version of the framing above. */
export const SNAPSHOT_STREAM_VERSION = 1;
/** Default chunk size: 1 MiB. */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

const TAG_RECORD = 0x01;
const TAG_TRAILER = 0x00;
/** Longest ConfState accepted in a header (ids are varints; 64 KiB is thousands of nodes). */
const MAX_CONF_STATE_BYTES = 64 * 1024;

/** A key/value pair of the state machine (/sm/ or /session/ key). */
export type SnapshotRecord = readonly [key: Uint8Array, value: Uint8Array];

/** Cuts a byte stream into chunks of exactly `size` bytes and keeps the running CRC. */
class ChunkWriter {
  private buf: Uint8Array;
  private pos = 0;
  private readonly ready: Uint8Array[] = [];
  crc = 0;

  constructor(private readonly size: number) {
    this.buf = new Uint8Array(size);
  }

  write(bytes: Uint8Array, withCrc = true): void {
    if (withCrc) this.crc = crcContinue(bytes, this.crc);
    let off = 0;
    while (off < bytes.length) {
      const n = Math.min(this.size - this.pos, bytes.length - off);
      this.buf.set(bytes.subarray(off, off + n), this.pos);
      this.pos += n;
      off += n;
      if (this.pos === this.size) {
        this.ready.push(this.buf);
        this.buf = new Uint8Array(this.size);
        this.pos = 0;
      }
    }
  }

  /** Completed chunks since the last call. */
  take(): Uint8Array[] {
    return this.ready.splice(0, this.ready.length);
  }

  /** The final, partial chunk (may be empty). */
  rest(): Uint8Array | undefined {
    if (this.pos === 0) return undefined;
    return this.buf.slice(0, this.pos);
  }
}

/** CRC-32 (zlib) of `bytes`, continuing from `crc`. */
function crcContinue(bytes: Uint8Array, crc: number): number {
  return crc32(bytes, crc) >>> 0;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  writeU64(b, n, 0);
  return b;
}

/**
 * The snapshot stream of `records` (already in ascending key order) with the given metadata,
 * in chunks of `chunkBytes`. Yields at least one chunk.
 */
export async function* encodeSnapshotStream(
  metadata: SnapshotMetadata,
  records: AsyncIterable<SnapshotRecord> | Iterable<SnapshotRecord>,
  chunkBytes: number = DEFAULT_CHUNK_BYTES,
): AsyncGenerator<Uint8Array, void, undefined> {
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) {
    throw new StorageError("InvalidArgument", `chunkBytes must be a positive integer, got ${chunkBytes}`);
  }
  const w = new ChunkWriter(chunkBytes);
  const cs = encodeConfState(metadata.confState);
  w.write(SNAPSHOT_MAGIC);
  w.write(u32(SNAPSHOT_STREAM_VERSION));
  w.write(u64(metadata.index));
  w.write(u64(metadata.term));
  w.write(u32(cs.length));
  w.write(cs);
  let count = 0;
  const tag = Buffer.from([TAG_RECORD]);
  for await (const [key, value] of records) {
    w.write(tag);
    w.write(u32(key.length));
    w.write(key);
    w.write(u32(value.length));
    w.write(value);
    count++;
    for (const chunk of w.take()) yield chunk;
  }
  w.write(Buffer.from([TAG_TRAILER]));
  w.write(u64(count));
  w.write(u64(metadata.index));
  w.write(u32(w.crc), false);
  for (const chunk of w.take()) yield chunk;
  const rest = w.rest();
  if (rest !== undefined) yield rest;
}

/** Reads fixed-size pieces from an async stream of chunks, keeping the CRC of what it read. */
class ChunkReader {
  private cur: Uint8Array = new Uint8Array(0);
  private pos = 0;
  /** Bytes consumed so far (for error messages). */
  offset = 0;
  crc = 0;
  private readonly it: AsyncIterator<Uint8Array>;

  constructor(chunks: AsyncIterable<Uint8Array>) {
    this.it = chunks[Symbol.asyncIterator]();
  }

  /** `n` bytes, synchronously when they are buffered (undefined otherwise). */
  take(n: number, withCrc = true): Uint8Array | undefined {
    if (this.cur.length - this.pos < n) return undefined;
    const out = this.cur.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.offset += n;
    if (withCrc) this.crc = crcContinue(out, this.crc);
    return out;
  }

  /** `n` bytes, pulling chunks as needed; throws SnapshotCorrupt at the end of the stream. */
  async read(n: number, what: string, withCrc = true): Promise<Uint8Array> {
    const fast = this.take(n, withCrc);
    if (fast !== undefined) return fast;
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      if (this.pos === this.cur.length) {
        const next = await this.nextChunk();
        if (next === undefined) {
          throw corrupt(`truncated: the stream ends inside the ${what} (${filled} of ${n} bytes read)`, this.offset + filled);
        }
        this.cur = next;
        this.pos = 0;
        continue;
      }
      const k = Math.min(n - filled, this.cur.length - this.pos);
      out.set(this.cur.subarray(this.pos, this.pos + k), filled);
      this.pos += k;
      filled += k;
    }
    this.offset += n;
    if (withCrc) this.crc = crcContinue(out, this.crc);
    return out;
  }

  /** Whether any byte is left after the current position (pulls chunks to find out). */
  async atEnd(): Promise<boolean> {
    while (this.pos === this.cur.length) {
      const next = await this.nextChunk();
      if (next === undefined) return true;
      this.cur = next;
      this.pos = 0;
    }
    return false;
  }

  private async nextChunk(): Promise<Uint8Array | undefined> {
    const r = await this.it.next();
    if (r.done) return undefined;
    if (!(r.value instanceof Uint8Array)) {
      throw corrupt(`a chunk is not a Uint8Array (${typeof r.value})`, this.offset);
    }
    return r.value;
  }

  /** Stop pulling from the source (on error). */
  async close(): Promise<void> {
    await this.it.return?.();
  }
}

function corrupt(detail: string, offset: number): StorageError {
  return new StorageError("SnapshotCorrupt", `snapshot stream: ${detail} (at byte ${offset})`);
}

function view(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Same members, in any order. */
function sameConfState(a: ConfState, b: ConfState): boolean {
  const sorted = (x: number[]) => [...x].sort((p, q) => p - q);
  const eq = (x: number[], y: number[]) => x.length === y.length && sorted(x).every((v, i) => v === sorted(y)[i]);
  return eq(a.voters, b.voters) && eq(a.learners, b.learners);
}

/**
 * Validates a snapshot stream and hands each record to `onRecord` in order (the key and value
 * may alias the chunks: copy them if they must outlive the call). Resolves with the metadata
 * and the record count once the trailer and its CRC check out; throws
 * StorageError("SnapshotCorrupt") otherwise. When `expected` is given the header must match it.
 */
export async function decodeSnapshotStream(
  chunks: AsyncIterable<Uint8Array>,
  onRecord: (key: Uint8Array, value: Uint8Array) => void,
  expected?: SnapshotMetadata,
): Promise<{ metadata: SnapshotMetadata; count: number }> {
  const r = new ChunkReader(chunks);
  try {
    const magic = await r.read(8, "header");
    if (!view(magic).equals(SNAPSHOT_MAGIC)) throw corrupt(`bad magic ${keyText(magic)}: not a raftgen snapshot stream`, 0);
    const version = view(await r.read(4, "header")).readUInt32BE(0);
    if (version !== SNAPSHOT_STREAM_VERSION) throw corrupt(`unsupported stream version ${version}`, 8);
    const index = readU64(await r.read(8, "header"), 0);
    const term = readU64(await r.read(8, "header"), 0);
    if (index === undefined || term === undefined) throw corrupt("header index or term above Number.MAX_SAFE_INTEGER", 12);
    const csLen = view(await r.read(4, "header")).readUInt32BE(0);
    if (csLen > MAX_CONF_STATE_BYTES) throw corrupt(`conf state of ${csLen} bytes is implausible`, 28);
    let confState: ConfState;
    try {
      confState = decodeConfState(new Uint8Array(await r.read(csLen, "header")));
    } catch (err) {
      if (err instanceof CodecError) throw corrupt(`header conf state does not decode: ${err.message}`, 32);
      throw err;
    }
    const metadata: SnapshotMetadata = { index, term, confState };
    if (expected !== undefined) {
      if (expected.index !== index || expected.term !== term || !sameConfState(expected.confState, confState)) {
        throw corrupt(
          `header (index ${index}, term ${term}) does not match the snapshot metadata ` +
            `(index ${expected.index}, term ${expected.term}) or its configuration`,
          12,
        );
      }
    }
    let count = 0;
    let prevKey: Uint8Array | undefined;
    for (;;) {
      const at = r.offset;
      const tag = (r.take(1) ?? (await r.read(1, "record tag")))[0];
      if (tag === TAG_TRAILER) break;
      if (tag !== TAG_RECORD) throw corrupt(`unknown record tag 0x${tag!.toString(16)}`, at);
      const keyLen = view(r.take(4) ?? (await r.read(4, "key length"))).readUInt32BE(0);
      if (keyLen === 0 || keyLen > MAX_KEY_BYTES) throw corrupt(`record ${count}: key length ${keyLen} is out of range`, at);
      const key = r.take(keyLen) ?? (await r.read(keyLen, "key"));
      try {
        checkStateOrSessionKey(key);
      } catch (err) {
        throw corrupt(`record ${count}: ${err instanceof Error ? err.message : String(err)}`, at);
      }
      if (prevKey !== undefined && compareBytes(prevKey, key) >= 0) {
        throw corrupt(`record ${count}: key ${keyText(key)} is not above the previous key ${keyText(prevKey)}`, at);
      }
      const valueLen = view(r.take(4) ?? (await r.read(4, "value length"))).readUInt32BE(0);
      if (valueLen > MAX_VALUE_BYTES) throw corrupt(`record ${count}: value length ${valueLen} is above ${MAX_VALUE_BYTES}`, at);
      const value = r.take(valueLen) ?? (await r.read(valueLen, "value"));
      onRecord(key, value);
      // `key` may be a view into a chunk the source reuses once we ask for the next one.
      prevKey = Buffer.from(key);
      count++;
    }
    const trailerAt = r.offset - 1;
    const stated = readU64(await r.read(8, "trailer"), 0);
    const trailerIndex = readU64(await r.read(8, "trailer"), 0);
    const computed = r.crc;
    const storedCrc = view(await r.read(4, "trailer", false)).readUInt32BE(0);
    if (stated !== count) throw corrupt(`trailer says ${stated} records, the stream held ${count}`, trailerAt);
    if (trailerIndex !== index) throw corrupt(`trailer index ${trailerIndex} differs from the header's ${index}`, trailerAt);
    if (storedCrc !== computed) {
      throw corrupt(`checksum mismatch (stored 0x${storedCrc.toString(16)}, computed 0x${computed.toString(16)})`, trailerAt);
    }
    if (!(await r.atEnd())) throw corrupt("bytes after the trailer", r.offset);
    return { metadata, count };
  } catch (err) {
    await r.close().catch(() => undefined);
    throw err;
  }
}
