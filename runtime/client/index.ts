// The base client: public surface by named exports.
export { RaftClient, fromStatus } from "./client.js";
export type { CallResult, ClientOptions, Consistency } from "./client.js";
