// otlp_load.mjs: send a list of pre-encoded OTLP ExportTraceServiceRequest
// messages over gRPC with grpc-js, retrying the ones the server refuses with
// UNAVAILABLE after the delay it asks for (google.rpc.RetryInfo in the
// grpc-status-details-bin trailer), as a well-behaved OTLP exporter does.
//
//   node otlp_load.mjs --target 127.0.0.1:PORT --file requests.bin
//        [--concurrency 2] [--deadline-ms 90000] [--max-delay-ms 5000]
//
// requests.bin holds the messages back to back, each preceded by its length
// as a 4-byte big-endian integer. Every outcome is printed at once as one JSON
// line on stdout, so the caller can follow progress while this runs:
//   {"event":"ok","req":I,"attempt":N}
//   {"event":"unavailable","req":I,"retry_info":bool,"retry_delay_ms":D,"details":"..."}
//   {"event":"error","req":I,"code":C,"details":"..."}   (not retried)
//   {"event":"gave_up","req":I}                           (deadline reached)
//   {"event":"done"}
// Exit status 0 when it ran to the end (whatever the outcomes), 2 on usage errors.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

import grpc from '@grpc/grpc-js';

const METHOD = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    file: { type: 'string' },
    concurrency: { type: 'string', default: '2' },
    'deadline-ms': { type: 'string', default: '90000' },
    'max-delay-ms': { type: 'string', default: '5000' },
  },
  strict: true,
});
if (!values.target || !values.file) {
  process.stderr.write('usage: node otlp_load.mjs --target HOST:PORT --file FILE [--concurrency N]\n');
  process.exit(2);
}

const data = readFileSync(values.file);
const requests = [];
for (let off = 0; off + 4 <= data.length;) {
  const len = data.readUInt32BE(off);
  requests.push(data.subarray(off + 4, off + 4 + len));
  off += 4 + len;
}

const deadline = Date.now() + Number(values['deadline-ms']);
const maxDelay = Number(values['max-delay-ms']);
const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

// Minimal protobuf reader: yields [field, wireType, value] (value: BigInt or Buffer).
function* fields(buf) {
  let i = 0;
  const varint = () => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const wt = key & 7;
    if (wt === 0) yield [key >> 3, wt, varint()];
    else if (wt === 2) {
      const len = Number(varint());
      yield [key >> 3, wt, buf.subarray(i, i + len)];
      i += len;
    } else if (wt === 1) i += 8;
    else if (wt === 5) i += 4;
    else throw new Error(`wire type ${wt}`);
  }
}

// google.rpc.Status (grpc-status-details-bin) -> RetryInfo delay in ms, or null.
function retryDelayMs(metadata) {
  const raw = metadata && metadata.get('grpc-status-details-bin')[0];
  if (!raw) return null;
  try {
    for (const [f, wt, any] of fields(Buffer.from(raw))) {
      if (f !== 3 || wt !== 2) continue;
      let type = '';
      let value = null;
      for (const [af, , av] of fields(any)) {
        if (af === 1) type = av.toString();
        if (af === 2) value = av;
      }
      if (!type.endsWith('google.rpc.RetryInfo') || !value) continue;
      for (const [rf, , dur] of fields(value)) {
        if (rf !== 1) continue;
        let s = 0n;
        let n = 0n;
        for (const [df, , dv] of fields(dur)) {
          if (df === 1) s = dv;
          if (df === 2) n = dv;
        }
        return Number(s) * 1000 + Math.floor(Number(n) / 1e6);
      }
    }
  } catch {
    return null;
  }
  return null;
}

const client = new grpc.Client(values.target, grpc.credentials.createInsecure(), {
  'grpc.max_send_message_length': -1,
  'grpc.max_receive_message_length': -1,
});
const identity = (b) => b;

function call(payload) {
  return new Promise((resolve) => {
    client.makeUnaryRequest(METHOD, identity, identity, payload, new grpc.Metadata(),
      { deadline: new Date(Date.now() + 15000) },
      (err) => resolve(err || null));
  });
}

let next = 0;
async function worker() {
  while (next < requests.length) {
    const req = next++;
    for (let attempt = 1; ; attempt++) {
      if (Date.now() >= deadline) {
        emit({ event: 'gave_up', req });
        break;
      }
      const err = await call(requests[req]);
      if (!err) {
        emit({ event: 'ok', req, attempt });
        break;
      }
      if (err.code !== grpc.status.UNAVAILABLE) {
        emit({ event: 'error', req, code: err.code, details: err.details || String(err.message) });
        break;
      }
      const delay = retryDelayMs(err.metadata);
      emit({ event: 'unavailable', req, retry_info: delay !== null, retry_delay_ms: delay,
        details: err.details || '' });
      await sleep(Math.min(delay === null ? 1000 : delay, maxDelay));
    }
  }
}

await Promise.all(Array.from({ length: Number(values.concurrency) }, worker));
emit({ event: 'done' });
client.close();
process.exit(0);
