#!/usr/bin/env python3
"""One SigV4-signed S3 request (stdlib only), for tests that need a request awscli will not send.

  s3_request.py METHOD PATH [--data TEXT] [--header 'Name: value']... [--omit HEADER]... [--unsigned-header 'Name: value']...
                [--payload-hash HEX|UNSIGNED-PAYLOAD] [--secret S] [--access-key AK] [--host HOST]
                [--content-md5]

PATH is the request target as sent (already percent-encoded, with its query), e.g. /bucket/key or
'/bucket?delete'. Credentials and the endpoint come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_REGION and AWS_ENDPOINT_URL (tests/s3/s3_server.sh's DIR/env). --host signs and sends another
Host header (virtual-host addressing: bucket.s3.localhost:PORT) while connecting to the endpoint.
--omit drops a header after signing (x-amz-date: a request without it); --unsigned-header adds
one after signing. Prints the status code
on the first line, then the response body; exits 0 whatever the status.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import http.client
import os
import sys
import urllib.parse


def enc(s, safe):
    return urllib.parse.quote(s, safe=safe)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("method")
    ap.add_argument("path")
    ap.add_argument("--data", default="")
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--omit", action="append", default=[])
    ap.add_argument("--unsigned-header", action="append", default=[])
    ap.add_argument("--payload-hash")
    ap.add_argument("--secret", default=os.environ.get("AWS_SECRET_ACCESS_KEY", ""))
    ap.add_argument("--access-key", default=os.environ.get("AWS_ACCESS_KEY_ID", ""))
    ap.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    ap.add_argument("--host")
    ap.add_argument("--content-md5", action="store_true")
    a = ap.parse_args()
    endpoint = urllib.parse.urlsplit(os.environ["AWS_ENDPOINT_URL"])
    body = a.data.encode()
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, date = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    headers = {"host": a.host or endpoint.netloc, "x-amz-date": amz_date,
               "x-amz-content-sha256": a.payload_hash or hashlib.sha256(body).hexdigest()}
    if a.content_md5:
        headers["content-md5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    for h in a.header:
        k, _, v = h.partition(":")
        headers[k.strip().lower()] = v.strip()
    path, _, query = a.path.partition("?")
    pairs = []
    for part in filter(None, query.split("&")):
        n, _, v = part.partition("=")
        pairs.append((enc(urllib.parse.unquote(n), "-_.~"), enc(urllib.parse.unquote(v), "-_.~")))
    cq = "&".join(f"{n}={v}" for n, v in sorted(pairs))
    signed = sorted(headers)
    ch = "".join(f"{k}:{headers[k].strip()}\n" for k in signed)
    creq = "\n".join([a.method, enc(urllib.parse.unquote(path), "/-_.~"), cq, ch, ";".join(signed),
                      headers["x-amz-content-sha256"]])
    scope = f"{date}/{a.region}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + a.secret).encode()
    for part in (date, a.region, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={a.access_key}/{scope}, "
                                f"SignedHeaders={';'.join(signed)}, Signature={sig}")
    for h in a.omit:
        headers.pop(h.lower(), None)
    for h in a.unsigned_header:
        k, _, v = h.partition(":")
        headers[k.strip().lower()] = v.strip()
    c = http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=60)
    c.putrequest(a.method, a.path, skip_host=True, skip_accept_encoding=True)
    for k2, v in headers.items():
        c.putheader(k2, v)
    if body or a.method in ("PUT", "POST"):
        c.putheader("content-length", str(len(body)))
    c.endheaders(body or None)
    r = c.getresponse()
    out = r.read()
    print(r.status)
    sys.stdout.write(out.decode("utf-8", "replace"))
    if out and not out.endswith(b"\n"):
        print()


if __name__ == "__main__":
    main()
