// Sends one traced request's documents with the AWS X-Ray SDK for Node
// (aws-xray-sdk-core) to AWS_XRAY_DAEMON_ADDRESS: a segment with subsegments,
// annotations, metadata, http and a fault with an exception, then an in-progress
// segment; then, with the SDK's streaming threshold lowered to 0, a segment whose
// completed subsegments the SDK streams as separate "subsegment" documents before
// the segment itself; last, the completed version of the in-progress segment.
// Prints every datagram the SDK sends, base64, one a line, so the test can compare
// what arrives with what was sent.
import dgram from "node:dgram";

const send = dgram.Socket.prototype.send;
let pending = 0; // datagrams handed to send() whose completion callback has not run
dgram.Socket.prototype.send = function (msg, ...rest) {
    // Node re-enters send() with an array of buffers while the socket binds: log
    // and count the caller's datagram only (the re-entry carries its callback along).
    if (Buffer.isBuffer(msg) || typeof msg === "string") {
        process.stdout.write(Buffer.from(msg).toString("base64") + "\n");
        pending++;
        const cb = typeof rest[rest.length - 1] === "function" ? rest.pop() : null;
        rest.push((...args) => {
            pending--;
            if (cb) cb(...args);
        });
    }
    return send.call(this, msg, ...rest);
};

const AWSXRay = (await import("aws-xray-sdk-core")).default;
AWSXRay.setContextMissingStrategy("IGNORE_ERROR");
AWSXRay.setLogger({ error() {}, warn() {}, info() {}, debug() {} });

const seg = new AWSXRay.Segment("checkout-service");
seg.addAnnotation("customer_tier", "gold");
seg.addAnnotation("items", 3);
seg.addMetadata("cart", { items: [{ sku: "A-1", qty: 2 }], note: "é ünïcode" }, "shop");
seg.http = {
    request: { method: "POST", url: "https://shop.example.com/checkout", client_ip: "10.0.0.7" },
    response: { status: 500, content_length: 42 },
};
const db = seg.addNewSubsegment("orders-db");
db.namespace = "remote";
db.sql = { url: "postgres://db:5432/orders", database_type: "PostgreSQL" };
db.addAnnotation("table", "orders");
db.close();
const pay = seg.addNewSubsegment("payment-api");
pay.namespace = "remote";
pay.addMetadata("attempt", 2);
const err = new Error("card processor unavailable");
pay.close(err);
seg.close(err); // a segment sends itself when it closes

// an in-progress segment, flushed before it ends (as long-running handlers do)
const open = new AWSXRay.Segment("long-job");
open.flush();

// Streamed subsegments. A subsegment that closes while the segment still counts more
// open subsegments than the threshold is sent on its own (type "subsegment",
// parent_id, trace_id) and removed from its parent (aws-xray-sdk-core
// Subsegment.prototype.close / streamSubsegments). With threshold 0: "parse" (child
// of "s3-get") and "sqs-receive" are streamed; "s3-get" closes last and stays in the
// segment.
AWSXRay.setStreamingThreshold(0);
const worker = new AWSXRay.Segment("order-worker");
worker.addAnnotation("queue", "orders");
const sqs = worker.addNewSubsegment("sqs-receive");
sqs.namespace = "aws";
const s3 = worker.addNewSubsegment("s3-get");
s3.namespace = "aws";
const parse = s3.addNewSubsegment("parse");
parse.addMetadata("rows", 120);
parse.close();
sqs.addAnnotation("messages", 10);
sqs.close();
s3.close(new Error("NoSuchKey"));
worker.close();

// the long-running handler ends: its completed version replaces the in-progress one
open.close();

// Exit once every datagram's send has completed (bounded: 5 s).
for (let i = 0; pending > 0; i++) {
    if (i === 500) {
        process.stderr.write(`${pending} datagrams still unsent after 5 s\n`);
        process.exit(1);
    }
    await new Promise((r) => setImmediate(r));
    if (pending > 0) await new Promise((r) => setTimeout(r, 10));
}
process.exit(0);
