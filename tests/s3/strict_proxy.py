#!/usr/bin/env python3
"""A strict S3 front for s3rver (tests/s3): checks what AWS checks, then forwards.

s3rver (the local S3 server of the tests) checks no signature against our keys and few of the
headers AWS requires; this proxy, listening on 127.0.0.1:PORT, does, before it forwards a request
(anonymously, path style) to s3rver:

  * every S3 request carries x-amz-date and x-amz-content-sha256 (else 400 with an S3 XML error)
    and an `Authorization: AWS4-HMAC-SHA256 ...` header whose signature is recomputed with the
    secret of its access key (403 SignatureDoesNotMatch / InvalidAccessKeyId), host and every
    x-amz-* header present must be signed (403 AccessDenied), the date must be within 15 minutes
    (403 RequestTimeTooSkewed), a signed payload hash must be the body's (400
    XAmzContentSHA256Mismatch); aws-chunked bodies (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, whose
    chunk signatures are checked, and STREAMING-UNSIGNED-PAYLOAD-TRAILER) are decoded; a key
    given a session token requires x-amz-security-token (signed) to match it;
  * Content-MD5 and x-amz-checksum-{crc32,sha1,sha256} are verified when present (400
    InvalidDigest / BadDigest); DeleteObjects requires one of them and at most 1000 keys, and
    honours <Quiet>;
  * virtual-host addressing (Host `bucket.s3.localhost:PORT`, any `<bucket>.<name>` that is not an
    IP address) is verified with that Host, then rewritten to path style;
  * ListObjectsV2 is answered by the proxy itself from s3rver's data directory (--s3rver-dir):
    s3rver walks its directory tree, so its order is not S3's byte order and its paging by
    "key > last key" loses keys (e.g. `a-b` sorts before `a/` on S3 but after the directory
    `a` on disk); the proxy lists in UTF-8 byte order with max-keys (<= 1000), start-after,
    continuation-token, delimiter (common prefixes count toward max-keys), encoding-type=url;
    a listing's continuation pages reuse the keys its first page walked while no request that
    may change data (any method but GET/HEAD) has been forwarded since (writes straight to
    s3rver, behind the proxy's back, are not seen by a listing in progress);
  * PUT with `If-None-Match: *` answers 412 PreconditionFailed when the key exists (s3rver ignores
    the header and overwrites).

Admin endpoints (unsigned, never forwarded):
  POST /__faults JSON   replaces the fault configuration; GET returns it; DELETE clears it.
      {"error_rate": 0.2, "error_status": 503, "slowdown_rate": 0.1, "delay_ms": 5,
       "cut_get_rate": 0.1, "fail_list_page": 3, "deny_delete_keys": ["prefix/"], "seed": 1}
      Faults apply to signed S3 requests only. fail_list_page N: the N-th page of a
      ListObjectsV2 listing (page 1 has no continuation-token) answers 500, always.
      deny_delete_keys: DeleteObjects answers AccessDenied for the keys starting with one of them.
  GET /__stats          S3 request counts by operation, method and status, injected faults, and
                        TCP connections accepted (admin ones included);
  DELETE /__stats       resets them.

Usage: strict_proxy.py --port P --upstream 127.0.0.1:Q [--s3rver-dir DIR] [--log FILE]
                       [--key AK:SECRET[:TOKEN]]... [--port-file FILE]
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import http.client
import http.server
import ipaddress
import json
import os
import random
import re
import socket
import sys
import threading
import time
import urllib.parse
import uuid
import zlib
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
OBJECT_SUFFIX = "._S3rver_object"
S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


class S3Error(Exception):
    def __init__(self, status, code, message, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def uri_encode(s, safe_slash):
    """AWS's UriEncode: every byte but A-Za-z0-9-._~ (and '/' in paths) as %XX, upper case."""
    return urllib.parse.quote(s, safe="/-_.~" if safe_slash else "-_.~")


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def hmac_sha256(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


class State:
    def __init__(self, args):
        self.keys = {}
        for k in args.key or ["ckpt-test-key:ckpt-test-secret"]:
            parts = k.split(":", 2)
            if len(parts) < 2:
                sys.exit(f"strict_proxy: --key {k}: expected AK:SECRET[:TOKEN]")
            self.keys[parts[0]] = (parts[1], parts[2] if len(parts) == 3 else None)
        self.upstream = args.upstream
        self.s3rver_dir = args.s3rver_dir
        self.vhost_domain = args.vhost_domain
        self.lock = threading.Lock()
        self.faults = {}
        self.rng = random.Random()
        self.stats = {}
        self.reset_stats()
        self.log = open(args.log, "a", buffering=1) if args.log else None
        self.put_locks = {}
        # Requests forwarded that may change s3rver's data (any method but GET/HEAD): begun and
        # done. A ListObjectsV2 listing's sorted keys are kept for its continuation pages while
        # none began since (see list_v2): the same answer as walking the tree again, without the
        # walk per page (quadratic in the bucket's size: ~1 s a page at 100,000 objects).
        self.mutations_begun = 0
        self.mutations_done = 0
        self.listings = {}

    def reset_stats(self):
        self.stats = {"requests": 0, "connections": 0, "by_operation": {}, "by_method": {}, "by_status": {},
                      "faults": {}}

    def count(self, group, name):
        with self.lock:
            d = self.stats[group]
            d[name] = d.get(name, 0) + 1

    def chance(self, name):
        rate = float(self.faults.get(name, 0) or 0)
        if rate <= 0:
            return False
        with self.lock:
            return self.rng.random() < rate


STATE = None


def operation(method, bucket, key, query):
    q = query
    if not bucket:
        return "ListBuckets"
    if not key:
        if method == "GET":
            if "list-type" in q:
                return "ListObjectsV2"
            if "uploads" in q:
                return "ListMultipartUploads"
            if "location" in q:
                return "GetBucketLocation"
            return "ListObjects" if not (set(q) - {"prefix", "delimiter", "marker", "max-keys", "encoding-type"}) else "GetBucket?" + "&".join(sorted(q))
        if method == "POST" and "delete" in q:
            return "DeleteObjects"
        return {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket"}.get(method, method + "Bucket")
    if method == "GET":
        return "ListParts" if "uploadId" in q else "GetObject"
    if method == "HEAD":
        return "HeadObject"
    if method == "PUT":
        if "partNumber" in q:
            return "UploadPart"
        return "CopyObject" if "x-amz-copy-source" in q.get("__headers__", ()) else "PutObject"
    if method == "POST":
        if "uploads" in q:
            return "CreateMultipartUpload"
        if "uploadId" in q:
            return "CompleteMultipartUpload"
    if method == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in q else "DeleteObject"
    return method + "Object"


def parse_query(raw):
    """[(name, value)] percent-decoded (not '+' as space: AWS clients encode spaces as %20)."""
    out = []
    if raw:
        for part in raw.split("&"):
            if not part:
                continue
            name, _, value = part.partition("=")
            out.append((urllib.parse.unquote(name), urllib.parse.unquote(value)))
    return out


def canonical_query(pairs):
    enc = sorted((uri_encode(n, False), uri_encode(v, False)) for n, v in pairs)
    return "&".join(f"{n}={v}" for n, v in enc)


def parse_authorization(value):
    m = re.fullmatch(r"AWS4-HMAC-SHA256\s+(.*)", value.strip())
    if not m:
        raise S3Error(400, "InvalidArgument", "Unsupported Authorization Type")
    fields = {}
    for part in m.group(1).split(","):
        k, _, v = part.strip().partition("=")
        fields[k] = v
    try:
        cred, signed, sig = fields["Credential"], fields["SignedHeaders"], fields["Signature"]
    except KeyError as e:
        raise S3Error(400, "AuthorizationHeaderMalformed", f"The authorization header is malformed; missing {e.args[0]}.")
    scope = cred.split("/")
    if len(scope) != 5 or scope[3] != "s3" or scope[4] != "aws4_request":
        raise S3Error(400, "AuthorizationHeaderMalformed",
                      f"The authorization header is malformed; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
    return scope, signed.split(";"), sig


def is_ip(host):
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AmazonS3"
    sys_version = ""

    def setup(self):
        super().setup()
        with STATE.lock:
            STATE.stats["connections"] += 1
        self.upstream_conn = None

    def finish(self):
        try:
            super().finish()
        finally:
            if self.upstream_conn:
                self.upstream_conn.close()

    def log_message(self, fmt, *args):  # no stderr noise; --log has one line per request
        pass

    # --- plumbing -----------------------------------------------------------------------------

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            data = bytearray()
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline(65537)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send_raw(self, status, headers, body, head=False, cut=False):
        self.send_response_only(status)
        have_len = False
        for k, v in headers:
            if k.lower() in ("connection", "keep-alive", "transfer-encoding", "date", "server"):
                continue
            if k.lower() == "content-length":
                have_len = True
                if not head:
                    continue
            self.send_header(k, v)
        self.send_header("Date", self.date_time_string())
        self.send_header("Server", "AmazonS3")
        if not head or not have_len:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if head:
            return
        if cut:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.wfile.write(body)

    def send_error_xml(self, err, resource):
        rid = uuid.uuid4().hex[:16].upper()
        extra = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in err.extra.items())
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{err.code}</Code>'
                f"<Message>{escape(err.message)}</Message>{extra}<Resource>{escape(resource)}</Resource>"
                f"<RequestId>{rid}</RequestId></Error>").encode()
        self.send_raw(err.status, [("Content-Type", "application/xml"), ("x-amz-request-id", rid)], body,
                      head=self.command == "HEAD")
        return err.status

    def forward(self, method, path, headers, body):
        if method in ("GET", "HEAD"):
            return self.forward_once(method, path, headers, body)
        with STATE.lock:
            STATE.mutations_begun += 1
        try:
            return self.forward_once(method, path, headers, body)
        finally:
            with STATE.lock:
                STATE.mutations_done += 1

    def forward_once(self, method, path, headers, body):
        for attempt in range(2):
            if self.upstream_conn is None:
                self.upstream_conn = http.client.HTTPConnection(STATE.upstream, timeout=120)
            try:
                self.upstream_conn.request(method, path, body=body, headers=headers)
                resp = self.upstream_conn.getresponse()
                data = resp.read()
                if resp.will_close:
                    self.upstream_conn.close()
                    self.upstream_conn = None
                return resp.status, resp.getheaders(), data
            except (ConnectionError, http.client.HTTPException, OSError):
                self.upstream_conn.close()
                self.upstream_conn = None
                if attempt:
                    raise
        raise AssertionError

    # --- admin ----------------------------------------------------------------------------------

    def admin(self, path, body):
        if path == "/__faults":
            if self.command == "POST":
                try:
                    cfg = json.loads(body or b"{}")
                    assert isinstance(cfg, dict)
                except (ValueError, AssertionError):
                    return self.send_raw(400, [("Content-Type", "text/plain")], b"fault config: a JSON object\n")
                with STATE.lock:
                    STATE.faults = cfg
                    STATE.rng = random.Random(cfg.get("seed"))
            elif self.command == "DELETE":
                with STATE.lock:
                    STATE.faults = {}
        elif path == "/__stats":
            if self.command == "DELETE":
                with STATE.lock:
                    STATE.reset_stats()
            with STATE.lock:
                out = json.dumps(STATE.stats, sort_keys=True).encode() + b"\n"
            return self.send_raw(200, [("Content-Type", "application/json")], out, head=self.command == "HEAD")
        else:
            return self.send_raw(404, [("Content-Type", "text/plain")], b"admin: /__faults or /__stats\n")
        with STATE.lock:
            out = json.dumps(STATE.faults, sort_keys=True).encode() + b"\n"
        self.send_raw(200, [("Content-Type", "application/json")], out, head=self.command == "HEAD")

    # --- request --------------------------------------------------------------------------------

    def do_GET(self):
        self.handle_s3()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_GET

    def handle_s3(self):
        t0 = time.monotonic()
        raw_path, _, raw_query = self.path.partition("?")
        if raw_path.startswith("http://"):  # absolute form
            raw_path = "/" + raw_path.split("/", 3)[3] if raw_path.count("/") >= 3 else "/"
        try:
            body = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        if raw_path in ("/__faults", "/__stats") or raw_path.startswith("/__"):
            self.admin(raw_path, body)
            return
        status, note, resource = 500, "", urllib.parse.unquote(raw_path)
        self.op = "?"
        try:
            status, _, note = self.s3(raw_path, raw_query, body)
        except S3Error as e:
            note = note or e.code
            status = self.send_error_xml(e, resource)
        except Exception as e:  # a bug of the proxy: an S3 500, and say so in the log
            note = f"proxy-bug {type(e).__name__}: {e}"
            status = self.send_error_xml(S3Error(500, "InternalError", "We encountered an internal error."), resource)
        STATE.count("by_status", str(status))
        if STATE.log:
            STATE.log.write(f"{datetime.datetime.utcnow().isoformat(timespec='milliseconds')}Z {self.client_address[1]} "
                            f"{self.command} {self.path} {self.op} {status} {len(body)}B {1000 * (time.monotonic() - t0):.1f}ms"
                            f"{' ' + note if note else ''}\n")

    def s3(self, raw_path, raw_query, body):
        h = self.headers
        self.trailers = {}
        host = h.get("Host", "")
        hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        # addressing
        bucket_from_host = None
        if hostname and not is_ip(hostname) and "." in hostname:
            if STATE.vhost_domain and hostname.endswith("." + STATE.vhost_domain):
                bucket_from_host = hostname[: -len(STATE.vhost_domain) - 1]
            else:
                bucket_from_host = hostname.split(".", 1)[0]
        key_path = urllib.parse.unquote(raw_path)
        if bucket_from_host is not None:
            bucket, key = bucket_from_host, key_path[1:]
            upstream_path = "/" + uri_encode(bucket, False) + "/" + uri_encode(key, True)
        else:
            bucket, _, key = key_path[1:].partition("/")
            upstream_path = "/" + uri_encode(bucket, False) + ("/" + uri_encode(key, True) if key else "")
        query_pairs = parse_query(raw_query)
        q = {n: v for n, v in query_pairs}
        q_ops = dict(q)
        if "x-amz-copy-source" in h:
            q_ops["__headers__"] = ("x-amz-copy-source",)
        op = self.op = operation(self.command, bucket, key, q_ops)
        with STATE.lock:
            STATE.stats["requests"] += 1
        STATE.count("by_operation", op)
        STATE.count("by_method", self.command)

        body = self.authenticate(raw_path, query_pairs, body)
        self.check_digests(body, op)

        # faults: signed requests only
        f = STATE.faults
        if f:
            if f.get("delay_ms"):
                time.sleep(float(f["delay_ms"]) / 1000)
            if STATE.chance("error_rate"):
                st = int(f.get("error_status", 503))
                STATE.count("faults", f"error_{st}")
                if st == 503:
                    raise S3Error(503, "ServiceUnavailable", "Please reduce your request rate.")
                raise S3Error(st, "InternalError", "We encountered an internal error. Please try again.")
            if STATE.chance("slowdown_rate"):
                STATE.count("faults", "slowdown")
                raise S3Error(503, "SlowDown", "Please reduce your request rate.")

        if op == "ListObjectsV2" and STATE.s3rver_dir:
            status, out = self.list_v2(bucket, q)
            self.send_raw(status, [("Content-Type", "application/xml")], out, head=self.command == "HEAD")
            return status, op, ""

        fwd_headers = {}
        for k, v in h.items():
            lk = k.lower()
            if lk in ("authorization", "x-amz-security-token", "x-amz-content-sha256", "x-amz-decoded-content-length",
                      "x-amz-trailer", "transfer-encoding", "expect", "connection", "keep-alive", "host",
                      "content-length") or lk.startswith("x-amz-checksum-"):
                continue
            if lk == "content-encoding":
                v = ",".join(x for x in (s.strip() for s in v.split(",")) if x and x != "aws-chunked")
                if not v:
                    continue
            fwd_headers[k] = v
        fwd_headers["Host"] = STATE.upstream
        if self.command in ("PUT", "POST") or body:
            fwd_headers["Content-Length"] = str(len(body))
        upstream = upstream_path + ("?" + raw_query if raw_query else "")

        if op == "DeleteObjects":
            status, headers, data = self.delete_objects(upstream, fwd_headers, body)
            self.send_raw(status, headers, data)
            return status, op, ""

        if op in ("PutObject", "CopyObject") and h.get("If-None-Match", "").strip() == "*":
            with STATE.lock:
                lock = STATE.put_locks.setdefault((bucket, key), threading.Lock())
            with lock:
                st, _, _ = self.forward("HEAD", upstream_path, {"Host": STATE.upstream}, None)
                if st == 200:
                    raise S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                                  Condition="If-None-Match")
                fwd_headers = {k: v for k, v in fwd_headers.items() if k.lower() != "if-none-match"}
                status, headers, data = self.forward(self.command, upstream, fwd_headers, body)
        else:
            status, headers, data = self.forward(self.command, upstream, fwd_headers, body)
        cut = (op == "GetObject" and status in (200, 206) and len(data) >= 2 and STATE.chance("cut_get_rate"))
        if cut:
            STATE.count("faults", "cut_get")
        self.send_raw(status, headers, data, head=self.command == "HEAD", cut=cut)
        return status, op, "cut" if cut else ""

    # --- SigV4 ----------------------------------------------------------------------------------

    def authenticate(self, raw_path, query_pairs, body):
        h = self.headers
        if "X-Amz-Signature" in dict(query_pairs) or "X-Amz-Credential" in dict(query_pairs):
            raise S3Error(403, "AccessDenied", "strict_proxy: presigned (query string) authentication is not supported")
        auth = h.get("Authorization")
        if auth is None:
            raise S3Error(403, "AccessDenied", "Access Denied (strict_proxy: every request must be signed)")
        amz_date = h.get("x-amz-date")
        if amz_date is None:
            raise S3Error(400, "InvalidRequest" if h.get("Date") else "AccessDenied",
                          "strict_proxy: the x-amz-date header is required")
        content_sha = h.get("x-amz-content-sha256")
        if content_sha is None:
            raise S3Error(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
        scope, signed, signature = parse_authorization(auth)
        access_key, date, region = scope[0], scope[1], scope[2]
        if access_key not in STATE.keys:
            raise S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.",
                          AWSAccessKeyId=access_key)
        secret, token = STATE.keys[access_key]
        try:
            t = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            raise S3Error(403, "AccessDenied", f"AWS authentication requires a valid Date or x-amz-date header")
        if amz_date[:8] != date:
            raise S3Error(400, "AuthorizationHeaderMalformed",
                          f"The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.")
        skew = abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds())
        if skew > 900:
            raise S3Error(403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
        present = {k.lower() for k in h.keys()}
        if "host" not in signed:
            raise S3Error(403, "AccessDenied", "strict_proxy: the host header must be signed")
        unsigned = sorted(k for k in present if k.startswith("x-amz-") and k not in signed)
        if unsigned:
            raise S3Error(403, "AccessDenied", "There were headers present in the request which were not signed",
                          HeadersNotSigned=", ".join(unsigned))
        if signed != sorted(signed) or any(s != s.lower() for s in signed):
            raise S3Error(403, "SignatureDoesNotMatch", "strict_proxy: SignedHeaders must be lower case and sorted")
        if token is not None and h.get("x-amz-security-token") != token:
            raise S3Error(403, "InvalidToken", "The provided token is malformed or otherwise invalid.")
        if token is None and "x-amz-security-token" in present:
            raise S3Error(403, "InvalidToken", "The provided token is malformed or otherwise invalid.")
        canon_headers = ""
        for name in signed:
            values = h.get_all(name)
            if values is None:
                raise S3Error(403, "SignatureDoesNotMatch", f"strict_proxy: signed header {name} is absent")
            canon_headers += name + ":" + ",".join(re.sub(r"\s+", " ", v.strip()) for v in values) + "\n"
        canon_uri = uri_encode(urllib.parse.unquote(raw_path), True)
        canonical = "\n".join([self.command, canon_uri, canonical_query(query_pairs), canon_headers, ";".join(signed),
                               content_sha])
        scope_s = "/".join(scope[1:])
        string_to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope_s, sha256_hex(canonical.encode("utf-8"))])
        k = hmac_sha256(("AWS4" + secret).encode(), date)
        k = hmac_sha256(k, region)
        k = hmac_sha256(k, "s3")
        k = hmac_sha256(k, "aws4_request")
        want = hmac.new(k, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, signature):
            raise S3Error(403, "SignatureDoesNotMatch",
                          "The request signature we calculated does not match the signature you provided. "
                          "Check your key and signing method.", AWSAccessKeyId=access_key,
                          StringToSign=string_to_sign, CanonicalRequest=canonical)
        # payload
        if content_sha == "UNSIGNED-PAYLOAD":
            return body
        if content_sha in ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                           "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"):
            return self.decode_aws_chunked(body, content_sha, k, amz_date, scope_s, signature)
        if not re.fullmatch(r"[0-9a-f]{64}", content_sha):
            raise S3Error(400, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-... or a valid sha256 value.")
        if sha256_hex(body) != content_sha:
            raise S3Error(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.",
                          ClientComputedContentSHA256=content_sha, S3ComputedContentSHA256=sha256_hex(body))
        return body

    def decode_aws_chunked(self, body, mode, key, amz_date, scope, seed_sig):
        signed = mode.startswith("STREAMING-AWS4-HMAC")
        out = bytearray()
        pos, prev = 0, seed_sig
        trailers = {}
        while True:
            eol = body.find(b"\r\n", pos)
            if eol < 0:
                raise S3Error(400, "IncompleteBody", "The request body terminated unexpectedly")
            head = body[pos:eol].decode("latin-1")
            size_s, _, ext = head.partition(";")
            size = int(size_s, 16)
            chunk = body[eol + 2: eol + 2 + size]
            if len(chunk) != size:
                raise S3Error(400, "IncompleteBody", "The request body terminated unexpectedly")
            if signed:
                m = re.fullmatch(r"chunk-signature=([0-9a-f]{64})", ext)
                if not m:
                    raise S3Error(403, "SignatureDoesNotMatch", "strict_proxy: aws-chunked chunk without chunk-signature")
                sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, EMPTY_SHA256, sha256_hex(chunk)])
                sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
                if sig != m.group(1):
                    raise S3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided (aws-chunked chunk).")
                prev = sig
            out += chunk
            pos = eol + 2 + size
            if size == 0:
                for line in body[pos:].split(b"\r\n"):
                    if b":" in line:
                        n, _, v = line.decode("latin-1").partition(":")
                        trailers[n.strip().lower()] = v.strip()
                break
            if body[pos:pos + 2] != b"\r\n":
                raise S3Error(400, "IncompleteBody", "strict_proxy: aws-chunked chunk not followed by CRLF")
            pos += 2
        dec = self.headers.get("x-amz-decoded-content-length")
        if dec is not None and int(dec) != len(out):
            raise S3Error(400, "IncompleteBody", "You did not provide the number of bytes specified by the x-amz-decoded-content-length header")
        self.trailers = trailers
        return bytes(out)

    def check_digests(self, body, op):
        h = self.headers
        md5 = h.get("Content-MD5")
        checks = {k.lower(): v for k, v in h.items() if k.lower().startswith("x-amz-checksum-") and k.lower() != "x-amz-checksum-algorithm"}
        checks.update({k: v for k, v in getattr(self, "trailers", {}).items() if k.startswith("x-amz-checksum-")})
        if md5 is not None:
            try:
                raw = base64.b64decode(md5, validate=True)
                assert len(raw) == 16
            except Exception:
                raise S3Error(400, "InvalidDigest", "The Content-MD5 you specified was invalid.", **{"Content-MD5": md5})
            if raw != hashlib.md5(body).digest():
                raise S3Error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.",
                              ExpectedDigest=md5, CalculatedDigest=base64.b64encode(hashlib.md5(body).digest()).decode())
        for name, value in checks.items():
            algo = name[len("x-amz-checksum-"):]
            if algo == "crc32":
                got = zlib.crc32(body).to_bytes(4, "big")
            elif algo in ("sha1", "sha256"):
                got = hashlib.new(algo, body).digest()
            else:
                continue  # crc32c, crc64nvme: not checked here
            if base64.b64encode(got).decode() != value:
                raise S3Error(400, "BadDigest", f"The {algo.upper()} you specified did not match the calculated checksum.")
        if op == "DeleteObjects" and md5 is None and not checks:
            raise S3Error(400, "InvalidRequest", "Missing required header for this request: Content-MD5 (or x-amz-checksum-*)")

    # --- DeleteObjects --------------------------------------------------------------------------

    def delete_objects(self, upstream, fwd_headers, body):
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
        ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        if root.tag != ns + "Delete":
            raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
        objs = root.findall(ns + "Object")
        if not objs or len(objs) > 1000:
            raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
        quiet = (root.findtext(ns + "Quiet") or "").strip().lower() == "true"
        keys = [o.findtext(ns + "Key") or "" for o in objs]
        deny = tuple(STATE.faults.get("deny_delete_keys") or ())
        denied = [k for k in keys if deny and k.startswith(deny)]
        allowed = [k for k in keys if not (deny and k.startswith(deny))]
        if denied:
            STATE.count("faults", "deny_delete")
        deleted = []
        if allowed:
            xml = "<Delete>" + "".join(f"<Object><Key>{escape(k)}</Key></Object>" for k in allowed) + "</Delete>"
            data = xml.encode()
            hdr = dict(fwd_headers)
            hdr["Content-Length"] = str(len(data))
            hdr["Content-MD5"] = base64.b64encode(hashlib.md5(data).digest()).decode()
            status, headers, out = self.forward("POST", upstream, hdr, data)
            if status != 200:
                return status, headers, out
            deleted = allowed
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="%s">' % S3_NS]
        if not quiet:
            parts += [f"<Deleted><Key>{escape(k)}</Key></Deleted>" for k in deleted]
        parts += [f"<Error><Key>{escape(k)}</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>" for k in denied]
        parts.append("</DeleteResult>")
        return 200, [("Content-Type", "application/xml")], "".join(parts).encode()

    # --- ListObjectsV2 --------------------------------------------------------------------------

    def list_v2(self, bucket, q):
        bdir = os.path.join(STATE.s3rver_dir, bucket)
        if not bucket or "/" in bucket or bucket.startswith(".") or not os.path.isdir(bdir):
            raise S3Error(404, "NoSuchBucket", "The specified bucket does not exist", BucketName=bucket)
        for bad in ("marker",):
            if bad in q:
                raise S3Error(400, "InvalidArgument", "Marker unsupported with REST.GET.BUCKET in list-type=2", ArgumentName=bad)
        max_keys = q.get("max-keys", "1000")
        if not re.fullmatch(r"\d+", max_keys) or int(max_keys) > 2147483647:
            raise S3Error(400, "InvalidArgument", "Provided max-keys not an integer or within integer range",
                          ArgumentName="max-keys", ArgumentValue=max_keys)
        limit = min(1000, int(max_keys))
        prefix, delim = q.get("prefix", ""), q.get("delimiter", "")
        enc = q.get("encoding-type")
        if enc not in (None, "url"):
            raise S3Error(400, "InvalidArgument", "Invalid Encoding Method specified in Request", ArgumentName="encoding-type")
        page = 1
        after = q.get("start-after", "")
        token = q.get("continuation-token")
        listing = None
        if token is not None:
            try:
                t = json.loads(base64.urlsafe_b64decode(token.encode()))
                after, page, listing = t["k"], int(t["p"]), t.get("l")
                assert t["b"] == bucket
            except Exception:
                raise S3Error(400, "InvalidArgument", "The continuation token provided is incorrect", ArgumentName="continuation-token")
        fail_page = STATE.faults.get("fail_list_page")
        if fail_page and page == int(fail_page):
            STATE.count("faults", "fail_list_page")
            raise S3Error(500, "InternalError", f"We encountered an internal error (strict_proxy: fail_list_page {page}).")

        keys = None
        with STATE.lock:
            kept = STATE.listings.get(listing) if listing else None
            if kept and kept[0] == (bucket, prefix) and kept[1] == STATE.mutations_begun:
                keys = kept[2]  # nothing forwarded since its walk could have changed the tree
            begun, done = STATE.mutations_begun, STATE.mutations_done
        if keys is None:
            keys = []
            for dirpath, dirnames, filenames in os.walk(bdir):
                rel = os.path.relpath(dirpath, bdir)
                rel = "" if rel == "." else rel + "/"
                for fn in filenames:
                    if fn.endswith(OBJECT_SUFFIX):
                        k = rel + fn[: -len(OBJECT_SUFFIX)]
                        if k.startswith(prefix):
                            keys.append(k)
            keys.sort(key=lambda s: s.encode("utf-8", "surrogateescape"))
            listing = listing or uuid.uuid4().hex
            with STATE.lock:
                # Kept only when no change was under way or began during the walk.
                if begun == done == STATE.mutations_begun:
                    STATE.listings[listing] = ((bucket, prefix), begun, keys)
                    while len(STATE.listings) > 4:
                        del STATE.listings[next(iter(STATE.listings))]
        after_b = after.encode("utf-8")
        entries, truncated, last = [], False, None
        seen_cp = None
        for k in keys:
            kb = k.encode("utf-8", "surrogateescape")
            if kb <= after_b:
                continue
            if delim:
                i = k.find(delim, len(prefix))
                if i >= 0:
                    cp = k[: i + len(delim)]
                    if cp == seen_cp or cp.encode() <= after_b:
                        continue
                    if len(entries) == limit:
                        truncated = True
                        break
                    seen_cp = cp
                    entries.append(("P", cp))
                    continue
            if len(entries) == limit:
                truncated = True
                break
            entries.append(("K", k))
        e = (lambda s: uri_encode(s, True)) if enc == "url" else (lambda s: s)
        x = ['<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="%s">' % S3_NS,
             f"<Name>{escape(bucket)}</Name><Prefix>{escape(e(prefix))}</Prefix>"]
        if token is not None:
            x.append(f"<ContinuationToken>{escape(token)}</ContinuationToken>")
        elif "start-after" in q:
            x.append(f"<StartAfter>{escape(e(after))}</StartAfter>")
        if truncated:
            nt = base64.urlsafe_b64encode(
                json.dumps({"b": bucket, "k": entries[-1][1], "p": page + 1, "l": listing}).encode()).decode()
            x.append(f"<NextContinuationToken>{nt}</NextContinuationToken>")
        x.append(f"<KeyCount>{len(entries)}</KeyCount><MaxKeys>{int(max_keys)}</MaxKeys>")
        if delim:
            x.append(f"<Delimiter>{escape(e(delim))}</Delimiter>")
        if enc:
            x.append("<EncodingType>url</EncodingType>")
        x.append(f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>")
        owner = q.get("fetch-owner") == "true"
        for kind, name in entries:
            if kind != "K":
                continue
            path = os.path.join(bdir, name + OBJECT_SUFFIX)
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue
            try:
                with open(path + ".md5") as fh:
                    md5 = fh.read().strip()
            except FileNotFoundError:
                with open(path, "rb") as fh:
                    md5 = hashlib.md5(fh.read()).hexdigest()
            lm = datetime.datetime.fromtimestamp(int(st.st_mtime), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            x.append(f"<Contents><Key>{escape(e(name))}</Key><LastModified>{lm}</LastModified>"
                     f"<ETag>&quot;{md5}&quot;</ETag><Size>{st.st_size}</Size>"
                     + ("<Owner><ID>123456789000</ID><DisplayName>S3rver</DisplayName></Owner>" if owner else "")
                     + "<StorageClass>STANDARD</StorageClass></Contents>")
        for kind, name in entries:
            if kind == "P":
                x.append(f"<CommonPrefixes><Prefix>{escape(e(name))}</Prefix></CommonPrefixes>")
        x.append("</ListBucketResult>")
        return 200, "".join(x).encode()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    global STATE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0, help="0: any free port (see --port-file)")
    ap.add_argument("--port-file", help="write the port listened on to this file once listening")
    ap.add_argument("--upstream", required=True, help="s3rver's HOST:PORT")
    ap.add_argument("--s3rver-dir", help="s3rver's data directory (ListObjectsV2 is answered from it)")
    ap.add_argument("--key", action="append", help="AK:SECRET[:SESSION_TOKEN] (default ckpt-test-key:ckpt-test-secret)")
    ap.add_argument("--vhost-domain", default="s3.localhost", help="Host BUCKET.<this> is virtual-host addressing")
    ap.add_argument("--log", help="append one line per request to this file")
    args = ap.parse_args()
    STATE = State(args)
    srv = Server(("127.0.0.1", args.port), Handler)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(f"{srv.server_address[1]}\n")
        os.replace(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
