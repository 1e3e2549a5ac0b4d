// The handlers of the placement center: what each command does to the replicated state and
// what each query reads. Synchronous and deterministic: times come from the log entry
// (`entry.timestamp`), never from the local clock.

import type { Handlers } from "../generated/handlers.js";

export const handlers: Handlers = {
  commands: {
    set({ key, value }, { state }) {
      state.kv.put(key, value);
    },
    delete({ key }, { state }) {
      return { deleted: state.kv.delete(key) };
    },
    registerNode(input, { state, entry }) {
      const existing = state.nodes.get(input.nodeId);
      if (existing && existing.clusterName !== input.clusterName) {
        throw new Error(`node ${input.nodeId} is registered in cluster ${existing.clusterName}, not ${input.clusterName}`);
      }
      const now = BigInt(entry.timestamp);
      const node = { ...input, createTime: existing?.createTime ?? now, lastHeartbeat: now };
      state.nodes.put(input.nodeId, node);
      return { node };
    },
    unregisterNode({ clusterName, nodeId }, { state }) {
      const existing = state.nodes.get(nodeId);
      if (!existing || existing.clusterName !== clusterName) return { removed: false };
      return { removed: state.nodes.delete(nodeId) };
    },
    heartbeat({ clusterName, nodeId }, { state, entry }) {
      const node = state.nodes.get(nodeId);
      if (!node || node.clusterName !== clusterName) throw new Error(`node ${nodeId} is not registered in cluster ${clusterName}`);
      state.nodes.put(nodeId, { ...node, lastHeartbeat: BigInt(entry.timestamp) });
    },
  },
  queries: {
    get({ key }, { state }) {
      return { value: state.kv.get(key) };
    },
    exists({ key }, { state }) {
      return { exists: state.kv.has(key) };
    },
    listNodes({ clusterName }, { state }) {
      return { nodes: [...state.nodes.values()].filter((n) => n.clusterName === clusterName) };
    },
  },
};
