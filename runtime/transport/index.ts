// The peer transport: public surface by named exports.

export { GrpcTransport, raftTransportDefinition, TRANSPORT_CHANNEL_OPTIONS, TRANSPORT_SERVER_OPTIONS } from "./transport.js";
export type { TransportEvents, TransportOptions, TransportStats } from "./transport.js";
export { RpcInputError, decodeRequest, safeNumber, serviceDefinition, toServiceError } from "./rpc.js";
