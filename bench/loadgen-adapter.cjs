'use strict';
// raftgen adapter for the shared load generator (../shared/bench/loadgen): put/get against a
// raftgen cluster running bench/kv-bench-state-machine.mjs, through the runtime's generic
// StateMachine service (proto/service.proto) — the same path a generated client takes.
//
// Contract (see the generator's src/adapters/index.js): create(opts) -> { client(i),
// describe(), close() }; client(i) -> { put(key, value), get(key), onError(err) }.
//
// Like the etcd adapter: channel c talks to endpoint c % E with its own TCP connection.
// A raftgen follower forwards a command to the leader (as etcd does) and names the leader in
// the response metadata; the worker then moves to a channel of that leader, as the runtime's
// RaftClient does, so it pays the extra hop once, not on every request. Reads stay where
// they are (any node serves linearizable reads through ReadIndex). Commands carry an
// exactly-once session per worker (client id, sequence), as the typed client does.

const path = require('node:path');
const crypto = require('node:crypto');
const grpc = require('@grpc/grpc-js');
const protobuf = require('protobufjs');

const root = protobuf.parse(require('node:fs').readFileSync(path.join(__dirname, '..', 'proto', 'service.proto'), 'utf8'), { keepCase: true }).root;
const CommandRequest = root.lookupType('raftgen.service.v1.CommandRequest');
const CommandReply = root.lookupType('raftgen.service.v1.CommandReply');
const QueryRequest = root.lookupType('raftgen.service.v1.QueryRequest');
const QueryReply = root.lookupType('raftgen.service.v1.QueryReply');

const method = (name, req, res) => ({
  path: `/raftgen.service.v1.StateMachine/${name}`,
  requestStream: false,
  responseStream: false,
  requestSerialize: (v) => Buffer.from(req.encode(v).finish()),
  requestDeserialize: (b) => b,
  responseSerialize: (v) => v,
  responseDeserialize: (b) => res.decode(b),
});
const COMMAND = method('Command', CommandRequest, CommandReply);
const QUERY = method('Query', QueryRequest, QueryReply);

/** put payload: u16 key length | key | value (see bench/kv-bench-state-machine.mjs). */
function putPayload(key, value) {
  const b = Buffer.allocUnsafe(2 + key.length + value.length);
  b.writeUInt16BE(key.length, 0);
  key.copy(b, 2);
  value.copy(b, 2 + key.length);
  return b;
}

function wrapError(err) {
  const name = grpc.status[err.code] || String(err.code);
  const details = String(err.details || err.message || '').split(':')[0].slice(0, 60);
  err.kind = `${name}: ${details}`;
  const leader = err.metadata && err.metadata.get('x-raftgen-leader-address')[0];
  if (leader) err.leaderAddress = String(leader);
  return err;
}

async function create(opts) {
  const eps = opts.endpoints.map((e) => `${e.host}:${e.port}`);
  const channels = [];
  for (let c = 0; c < opts.conns; c++) {
    channels.push(
      new grpc.Client(eps[c % eps.length], grpc.credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
        'grpc.loadgen_channel_index': c,
        'grpc.initial_reconnect_backoff_ms': 50,
        'grpc.max_reconnect_backoff_ms': 250,
      }),
    );
  }
  await Promise.all(
    channels.map(
      (ch, c) => new Promise((resolve, reject) => ch.waitForReady(Date.now() + 5000, (err) => (err ? reject(new Error(`endpoint ${eps[c % eps.length]} not ready: ${err.message}`)) : resolve()))),
    ),
  );
  const timeoutMs = opts.timeoutMs;
  const consistency = opts.serializable ? 'stale' : 'linearizable';
  const base = crypto.randomUUID();
  // One exactly-once session per client() handle (the generator may create several handles
  // for the same index, e.g. its failover probes): a session carries one sequence at a time.
  let sessions = 0;

  function client(i) {
    let c = i % channels.length;
    const clientId = `${base}/${sessions++}`;
    let seq = 0;
    // Move this worker to the channel of an endpoint (the first channel talking to it).
    const moveTo = (address) => {
      const e = eps.indexOf(address);
      if (e < 0) return false;
      for (let k = 0; k < channels.length; k++) {
        if (k % eps.length === e) {
          c = k;
          return true;
        }
      }
      return false;
    };
    const unary = (m, req) =>
      new Promise((resolve, reject) => {
        const call = channels[c].makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
          if (!err) return resolve(res);
          // Fail over here rather than only in onError: the generator's failover probes never
          // call onError, and a handle moved to a leader that died would otherwise stay there.
          const e = wrapError(err);
          if (!(e.leaderAddress && moveTo(e.leaderAddress))) c = (c + 1) % channels.length;
          reject(e);
        });
        // A follower that forwarded the command names the leader: go there next time, as
        // runtime/client's RaftClient does.
        call.on('metadata', (md) => {
          const leader = md.get('x-raftgen-leader-address')[0];
          if (leader) moveTo(String(leader));
        });
      });
    return {
      get endpoint() {
        return eps[c % eps.length];
      },
      async put(key, value) {
        await unary(COMMAND, { command: 'put', payload: putPayload(key, value), client_id: clientId, sequence: ++seq });
      },
      async get(key) {
        const res = await unary(QUERY, { query: 'get', payload: key, consistency });
        return res.payload.length > 0 ? Buffer.from(res.payload.subarray(1)) : null;
      },
      // The move after an error already happened in the call itself (see unary).
      onError() {},
    };
  }

  return {
    describe: () => ({ endpoints: eps, conns: channels.length, consistency }),
    client,
    async close() {
      for (const ch of channels) ch.close();
    },
  };
}

module.exports = { name: 'raftgen', create };
