#!/usr/bin/python3
"""tests/integration/fake_xray.py (the PutTraceSegments stand-in that verifies every
SigV4 signature), plus a record of each accepted document exactly as it was in the
request: fake_xray.py's --docs-out holds re-serialised documents, which cannot show
that a document reached X-Ray byte for byte.

    /usr/bin/python3 fake_xray_raw.py --raw-docs-out raw.jsonl FAKE_XRAY_ARGS...

Every document of a call answered 200 and not listed in UnprocessedTraceSegments is
appended to --raw-docs-out as one JSON string (the document text, escaped) a line.
Everything else, including the port printed on the first line of stdout, is
fake_xray.py's.
"""

import json
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import fake_xray  # noqa: E402


class RawHandler(fake_xray.Handler):
    def _put_trace_segments(self, st, nreq, body):
        self._raw_body = body
        try:
            super()._put_trace_segments(st, nreq, body)
        finally:
            self._raw_body = None

    def _reply(self, code, obj, extra_headers=()):
        body = getattr(self, "_raw_body", None)
        if code == 200 and body is not None:
            bounced = {u.get("Id") for u in obj.get("UnprocessedTraceSegments", [])}
            docs = json.loads(body)["TraceSegmentDocuments"]
            keep = []
            for raw in docs:
                try:
                    did = str(json.loads(raw).get("id"))
                except (ValueError, AttributeError):
                    continue  # fake_xray.py listed it as InvalidDocument
                if did not in bounced:
                    keep.append(json.dumps(raw))
            if keep:
                with self.server.raw_lock:
                    self.server.raw_file.write("\n".join(keep) + "\n")
                    self.server.raw_file.flush()
        super()._reply(code, obj, extra_headers)


def main(argv):
    if len(argv) < 2 or argv[0] != "--raw-docs-out":
        print("usage: fake_xray_raw.py --raw-docs-out FILE FAKE_XRAY_ARGS...", file=sys.stderr)
        return 2
    raw_path, rest = argv[1], argv[2:]
    args = fake_xray.parse_args(rest)
    server = fake_xray.Server(("127.0.0.1", 0), RawHandler)
    server.raw_file = open(raw_path, "a", encoding="utf-8")
    server.raw_lock = threading.Lock()
    try:
        return fake_xray.serve(server, fake_xray.State(args))
    finally:
        server.raw_file.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
