#!/usr/bin/env python3
"""Signs requests with botocore's S3SigV4Auth, as a second opinion on Cairn's signer.

Reads JSON from stdin: {"accessKeyID", "secretAccessKey", "sessionToken"?, "region",
"amzDate", "requests": [{"method", "url", "headers": [[name, value]], "bodyHex"}]}
(secrets travel on stdin, never on the command line) and prints a JSON list of
{"authorization", "canonicalRequest"}, one per request.
"""
import datetime, json, sys
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

spec = json.load(sys.stdin)
creds = Credentials(spec["accessKeyID"], spec["secretAccessKey"], spec.get("sessionToken"))
when = datetime.datetime.strptime(spec["amzDate"], "%Y%m%dT%H%M%SZ")
out = []
for r in spec["requests"]:
    headers = {}
    for name, value in r["headers"]:
        # botocore adds these itself from the credentials and the time
        if name.lower() in ("x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "authorization"):
            continue
        headers[name] = value
    req = AWSRequest(method=r["method"], url=r["url"], data=bytes.fromhex(r["bodyHex"]), headers=headers)
    auth = botocore.auth.S3SigV4Auth(creds, "s3", spec["region"])
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
        auth.add_auth(req)
        canonical = auth.canonical_request(req)
    out.append({"authorization": req.headers["Authorization"], "canonicalRequest": canonical})
json.dump(out, sys.stdout)
