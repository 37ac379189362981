#!/usr/bin/python3
"""Compare libcurl's built-in SigV4 signer (curl --aws-sigv4, CURLOPT_AWS_SIGV4) with
the botocore-generated vectors in tests/data/sigv4/vectors.json, an STS AssumeRole
form POST and an AssumeRole with a session token (botocore as the oracle), and AWS's
documented IAM ListUsers example. Each request goes to a capture server on 127.0.0.1;
the Authorization header curl sent is compared with the expected one."""
import http.server, json, os, subprocess, sys, threading

HERE = os.path.dirname(os.path.abspath(__file__))
got = {}

class H(http.server.BaseHTTPRequestHandler):
    def _any(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        got["auth"] = self.headers.get("Authorization")
        got["hdrs"] = list(self.headers.items())
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    do_GET = do_POST = do_PUT = _any
    def log_message(self, *a): pass

srv = http.server.HTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
port = srv.server_address[1]

def via_curl(v):
    got.clear()
    url = "http://127.0.0.1:%d%s" % (port, v["path"]) + ("?" + v["query"] if v["query"] else "")
    cmd = ["curl", "-s", "-o", "/dev/null", "--path-as-is", "-X", v["method"], url,
           "--aws-sigv4", "aws:amz:%s:%s" % (v["region"], v["service"]),
           "--user", "%s:%s" % (v["access_key_id"], v["secret_access_key"]),
           "-H", "X-Amz-Date: " + v["expected"]["amz_date"]]
    for k, val in v["headers"]:
        cmd += ["-H", "%s: %s" % (k, val)]
    if v.get("session_token"):
        cmd += ["-H", "X-Amz-Security-Token: " + v["session_token"]]
    if v["method"] != "GET":
        cmd += ["--data-binary", v["payload"] or ""]
    subprocess.run(cmd, check=True, timeout=10)
    return got.get("auth")

def botocore_vector(name, method, path, query, headers, payload, region, service, token):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    import datetime, unittest.mock as m
    url = "https://%s%s" % (dict(headers)["Host"], path) + ("?" + query if query else "")
    req = AWSRequest(method=method, url=url, data=payload.encode(), headers=dict(headers))
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    when = datetime.datetime(2024, 3, 1, 12, 34, 56)
    with m.patch("botocore.auth.datetime") as dt:
        dt.datetime.utcnow.return_value = when
        dt.datetime.now.return_value = when
        SigV4Auth(creds, service, region).add_auth(req)
    return {"name": name, "method": method, "path": path, "query": query, "headers": headers,
            "payload": payload, "region": region, "service": service,
            "access_key_id": "AKIDEXAMPLE",
            "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "session_token": token,
            "expected": {"amz_date": req.headers["X-Amz-Date"],
                         "authorization": req.headers["Authorization"]}}

vectors = json.load(open(os.path.join(HERE, "vectors.json")))["vectors"]
form = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fx&RoleSessionName=xraybridge"
sts_h = [["Host", "sts.us-west-2.amazonaws.com"],
         ["Content-Type", "application/x-www-form-urlencoded; charset=utf-8"]]
vectors.append(botocore_vector("sts_assume_role_form_post", "POST", "/", None, sts_h, form,
                               "us-west-2", "sts", None))
vectors.append(botocore_vector("sts_assume_role_session_token", "POST", "/", None, sts_h, form,
                               "us-west-2", "sts", "FQoGZXIvYXdzEXAMPLETOKEN/+="))
vectors.append({"name": "aws_doc_iam_list_users", "method": "GET", "path": "/",
                "query": "Action=ListUsers&Version=2010-05-08",
                "headers": [["Host", "iam.amazonaws.com"],
                            ["Content-Type", "application/x-www-form-urlencoded; charset=utf-8"]],
                "payload": "", "region": "us-east-1", "service": "iam",
                "access_key_id": "AKIDEXAMPLE",
                "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                "session_token": None,
                "expected": {"amz_date": "20150830T123600Z", "authorization":
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                    "SignedHeaders=content-type;host;x-amz-date, "
                    "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"}})
same = 0
for v in vectors:
    a = via_curl(v)
    ok = a == v["expected"]["authorization"]
    same += ok
    print("%-40s %s" % (v["name"], "identical" if ok else "DIFFERENT"))
    if not ok:
        print("   curl:     %s\n   expected: %s" % (a, v["expected"]["authorization"]))
print("%d of %d identical (%s)" % (same, len(vectors),
      subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split("\n")[0]))
srv.shutdown()
