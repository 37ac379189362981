// grpc_call.mjs: make one raw unary gRPC call with the real grpc-js client
// and print its outcome as one JSON line on stdout.
//
//   node grpc_call.mjs --target 127.0.0.1:PORT --method /pkg.Service/Method
//                      --file request.bin [--gzip] [--timeout-ms 10000]
//                      [--ca ca.pem [--cert client.pem --key client.key]]
//
// The request message is the file's bytes, sent as-is (no protobuf encoding
// here, so malformed messages can be sent on purpose); --gzip makes the
// channel compress the message (grpc-encoding: gzip); --ca makes it a TLS channel
// trusting that CA, and --cert/--key add a client certificate (mTLS). Output:
// {"code": <gRPC status code, 0 = OK>, "details": "...", "responseBytes": N}.
// Exit status is 0 whenever a gRPC status was obtained (even a non-OK one) and
// 2 on usage errors.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import grpc from '@grpc/grpc-js';

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    method: { type: 'string' },
    file: { type: 'string' },
    gzip: { type: 'boolean', default: false },
    'timeout-ms': { type: 'string', default: '10000' },
    ca: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
  },
  strict: true,
});
if (!values.target || !values.method || !values.file) {
  process.stderr.write('usage: node grpc_call.mjs --target HOST:PORT --method /svc/Method --file FILE [--gzip]\n');
  process.exit(2);
}

const options = {
  'grpc.max_send_message_length': -1,
  'grpc.max_receive_message_length': -1,
};
if (values.gzip) options['grpc.default_compression_algorithm'] = 2; // gzip

const creds = values.ca
  ? grpc.credentials.createSsl(readFileSync(values.ca),
    values.key ? readFileSync(values.key) : null, values.cert ? readFileSync(values.cert) : null)
  : grpc.credentials.createInsecure();
const client = new grpc.Client(values.target, creds, options);
const payload = readFileSync(values.file);
const identity = (b) => b;
const deadline = new Date(Date.now() + Number(values['timeout-ms']));

client.makeUnaryRequest(values.method, identity, identity, payload, new grpc.Metadata(), { deadline },
  (err, response) => {
    const out = err
      ? { code: err.code, details: err.details || String(err.message) }
      : { code: 0, details: '', responseBytes: response ? response.length : 0 };
    process.stdout.write(`${JSON.stringify(out)}\n`);
    client.close();
    process.exit(0);
  });
