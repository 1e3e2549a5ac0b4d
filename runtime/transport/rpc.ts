// Glue between protobufjs schemas and @grpc/grpc-js services: builds grpc-js service
// definitions for a protobufjs Service, and converts decoded values safely.
//
// Requests are deserialized by the *handler*, not by grpc-js: grpc-js turns a throwing
// deserializer into a generic INTERNAL error, while bad input must be answered with
// INVALID_ARGUMENT and a precise message (DESIGN: Errors and bad input). So the server side
// receives raw bytes and calls `decodeRequest`, which throws RpcInputError.
//
// This module holds no state and does no I/O.

import * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";

/** A request that could not be decoded or validated: answered with the given status. */
export class RpcInputError extends Error {
  override readonly name = "RpcInputError";
  constructor(
    readonly status: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

const identity = (b: Buffer): Buffer => b;

/**
 * A grpc-js service definition for `service`: the server side gets raw request bytes
 * (decode with decodeRequest), responses are plain objects encoded with the response type;
 * the client side encodes request objects and decodes responses to plain objects.
 */
export function serviceDefinition(service: protobuf.Service): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const req = method.resolvedRequestType!;
    const res = method.resolvedResponseType!;
    def[method.name] = {
      path: `/${service.fullName.replace(/^\./, "")}/${method.name}`,
      requestStream: !!method.requestStream,
      responseStream: !!method.responseStream,
      requestSerialize: (value: unknown) => Buffer.from(req.encode(value as object).finish()),
      requestDeserialize: identity,
      // A Uint8Array reply is already encoded (a relayed reply); anything else is encoded here.
      responseSerialize: (value: unknown) => (value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : Buffer.from(res.encode(value as object).finish())),
      responseDeserialize: (bytes: Buffer) => toPlain(res, bytes),
      originalName: method.name,
    };
  }
  return def as grpc.ServiceDefinition;
}

/** Decode a response to a plain object (64-bit values as numbers, checked). */
function toPlain(type: protobuf.Type, bytes: Buffer): unknown {
  return type.toObject(type.decode(bytes), { longs: String, bytes: Uint8Array as never, defaults: true, arrays: true });
}

/**
 * Decode request bytes of `type` into a plain object with default values filled in; 64-bit
 * integers come out as decimal strings (use `safeNumber`). Throws RpcInputError
 * INVALID_ARGUMENT on malformed bytes.
 */
export function decodeRequest<T>(type: protobuf.Type, bytes: Buffer): T {
  let msg: protobuf.Message;
  try {
    msg = type.decode(bytes);
  } catch (err) {
    throw new RpcInputError(grpc.status.INVALID_ARGUMENT, `malformed ${type.name}: ${(err as Error).message}`);
  }
  return type.toObject(msg, { longs: String, bytes: Uint8Array as never, defaults: true, arrays: true }) as T;
}

/** A decimal string or number as a safe integer; RpcInputError INVALID_ARGUMENT otherwise. */
export function safeNumber(v: unknown, field: string): number {
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RpcInputError(grpc.status.INVALID_ARGUMENT, `${field}: ${String(v)} is not a safe non-negative integer`);
  }
  return n;
}

/** Turn any error into a grpc ServiceError-like object for a callback. */
export function toServiceError(err: unknown): Partial<grpc.StatusObject> & Error {
  if (err instanceof RpcInputError) return Object.assign(new Error(err.message), { code: err.status, details: err.message });
  const message = err instanceof Error ? err.message : String(err);
  return Object.assign(new Error(message), { code: grpc.status.INTERNAL, details: message });
}
