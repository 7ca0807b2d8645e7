#!/usr/bin/env bash
# Self-test of the local S3 of the tests (s3rver behind tests/s3/strict_proxy.py), with the AWS
# CLI as the known-good client: uploads, paged listings, deletes, multipart, the proxy's refusals
# (signature, headers, digests) and its injected faults. $1 and $2 (ckpt, fixtures) are unused.
# Skipped (77) when s3rver, node or awscli is missing.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../cli/lib.sh
. "$here/../cli/lib.sh" "${1:-ckpt}" "${2:-/nonexistent}"
# shellcheck source=lib_s3.sh
. "$here/lib_s3.sh"

s3_start
B=ckpt-proxy-test
s3_mb "$B" || fail "mb $B"

# --- 2,500 small files, names chosen so that directory-walk order differs from S3's byte order
# ('a-b' < 'a.c' < 'a/' on S3; s3rver walks the directory 'a' first) --------------------------
up=$TMP/up
mkdir -p "$up/a" "$up/a-b" "$up/a/z"
for i in $(seq -w 0 999); do echo "a $i" >"$up/a/f$i"; done
for i in $(seq -w 0 999); do echo "ab $i" >"$up/a-b/f$i"; done
for i in $(seq -w 0 497); do echo "az $i" >"$up/a/z/f$i"; done
echo top >"$up/a.c"
echo top >"$up/a"x
(cd "$up" && find . -type f | sed 's|^\./|data/|' | LC_ALL=C sort) >"$TMP/want"
check_eq "files made" "$(wc -l <"$TMP/want")" 2500

s3_stats reset >/dev/null
expect_exit 0 -- s3_put_dir "$up" "s3://$B/data"
check_eq "PutObject requests" "$(s3_stat by_operation PutObject)" 2500
conns=$(s3_stat connections)
checks=$((checks + 1))
[ "$conns" -lt 100 ] || fail "2500 uploads over $conns TCP connections: keep-alive broken?"

# --- listings: paged (3 pages of at most 1000), in byte order, complete --------------------------
s3_stats reset >/dev/null
s3_ls "s3://$B/data/" >"$TMP/got"
checks=$((checks + 1))
cmp -s "$TMP/got" "$TMP/want" || { fail "s3_ls differs from the uploaded files"; diff "$TMP/want" "$TMP/got" | head -5 >&2; }
check_eq "ListObjectsV2 pages for 2500 keys" "$(s3_stat by_operation ListObjectsV2)" 3
expect_exit 0 -- s3_aws s3 ls --recursive "s3://$B/data/"
check_eq "aws s3 ls --recursive lines" "$(wc -l <"$TMP/out")" 2500
# max-keys and delimiter: common prefixes count toward max-keys
expect_exit 0 -- s3_aws s3api list-objects-v2 --bucket "$B" --prefix data/ --delimiter / --output json
check_eq "delimiter listing" "$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print([p["Prefix"] for p in d.get("CommonPrefixes", [])], [o["Key"] for o in d.get("Contents", [])])' "$TMP/out")" \
  "['data/a-b/', 'data/a/'] ['data/a.c', 'data/ax']"
s3_stats reset >/dev/null
expect_exit 0 -- s3_aws s3api list-objects-v2 --bucket "$B" --prefix data/ --delimiter / --page-size 1 --output json
check_eq "delimiter listing, 1 a page" "$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print([p["Prefix"] for p in d.get("CommonPrefixes", [])], [o["Key"] for o in d.get("Contents", [])])' "$TMP/out")" \
  "['data/a-b/', 'data/a/'] ['data/a.c', 'data/ax']"
check_eq "pages of 1 for 4 entries" "$(s3_stat by_operation ListObjectsV2)" 4
expect_exit 0 -- s3_request GET "/$B?list-type=2&prefix=data%2F&delimiter=%2F&max-keys=1"
expect_out '<CommonPrefixes><Prefix>data/a-b/</Prefix></CommonPrefixes>'
expect_out '<KeyCount>1</KeyCount>'
expect_out '<IsTruncated>true</IsTruncated>'
expect_exit 0 -- s3_aws s3api list-objects-v2 --bucket "$B" --prefix data/a/ --start-after data/a/z/f000 --output json
check_eq "start-after" "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["Contents"][0]["Key"])' "$TMP/out")" "data/a/z/f001"

# --- reads: whole, ranged, multipart upload round trip -----------------------------------------
expect_exit 0 -- s3_aws s3 cp "s3://$B/data/a-b/f123" -
expect_out '^ab 123$'
expect_exit 0 -- s3_aws s3api get-object --bucket "$B" --key data/a-b/f123 --range bytes=3-5 "$TMP/range"
check_eq "ranged GET" "$(cat "$TMP/range")" "123"
head -c 12000000 /dev/urandom >"$TMP/big"
s3_stats reset >/dev/null
expect_exit 0 -- s3_aws s3 cp "$TMP/big" "s3://$B/big"
check_ge "UploadPart requests (multipart)" "$(s3_stat by_operation UploadPart)" 2
expect_exit 0 -- s3_aws s3 cp "s3://$B/big" "$TMP/big.back"
checks=$((checks + 1))
cmp -s "$TMP/big" "$TMP/big.back" || fail "multipart round trip differs"

# --- the proxy's refusals ------------------------------------------------------------------------
AWS_SECRET_ACCESS_KEY=wrong expect_exit 254 -- s3_aws s3api list-objects-v2 --bucket "$B" --max-items 1
expect_err SignatureDoesNotMatch
AWS_ACCESS_KEY_ID=nobody expect_exit 254 -- s3_aws s3api list-objects-v2 --bucket "$B" --max-items 1
expect_err InvalidAccessKeyId
expect_exit 0 -- s3_request GET "/$B/data/ax"
expect_out '^200$'
expect_out '^top$'
expect_exit 0 -- s3_request GET "/$B/data/ax" --omit x-amz-date
expect_out '^400$'
expect_exit 0 -- s3_request GET "/$B/data/ax" --omit x-amz-content-sha256
expect_out '^400$'
expect_out '<Code>InvalidRequest</Code>'
expect_exit 0 -- s3_request GET "/$B/data/ax" --secret wrong
expect_out '^403$'
expect_out '<Code>SignatureDoesNotMatch</Code>'
expect_exit 0 -- s3_request PUT "/$B/x" --data hello --payload-hash "$(printf other | sha256sum | cut -d' ' -f1)"
expect_out '<Code>XAmzContentSHA256Mismatch</Code>'
expect_exit 0 -- s3_request PUT "/$B/x" --data hello --unsigned-header "x-amz-meta-unsigned: 1"
expect_out '^403$'
expect_out '<Code>AccessDenied</Code>'
expect_exit 0 -- s3_request PUT "/$B/x" --data hello --header "Content-MD5: eV8yArF8trw9S3cdjGyerw=="
expect_out '<Code>BadDigest</Code>'
expect_exit 0 -- s3_request PUT "/$B/x" --data hello --payload-hash UNSIGNED-PAYLOAD
expect_out '^200$'
# a keyed path segment with characters S3 encodes (space, +, ~, unicode): signed and read back
expect_exit 0 -- s3_request PUT "/$B/odd/a%20b%2Bc~%C3%A9" --data odd
expect_out '^200$'
expect_exit 0 -- s3_aws s3 cp "s3://$B/odd/a b+c~é" -
expect_out '^odd$'
# virtual-host addressing: Host bucket.s3.localhost:PORT, rewritten to path style
expect_exit 0 -- s3_request GET "/data/ax" --host "$B.s3.localhost:${AWS_ENDPOINT_URL##*:}"
expect_out '^200$'
expect_out '^top$'
expect_exit 0 -- s3_request GET "/data/ax" --host "$B.s3.localhost:${AWS_ENDPOINT_URL##*:}" --secret wrong
expect_out '^403$'
# conditional PUT: If-None-Match: * on an existing key fails (412), on a new key succeeds
expect_exit 0 -- s3_request PUT "/$B/data/ax" --data new --header "If-None-Match: *"
expect_out '^412$'
expect_exit 0 -- s3_request PUT "/$B/fresh" --data new --header "If-None-Match: *"
expect_out '^200$'
# DeleteObjects: Content-MD5 (or a checksum) required
del='<Delete><Object><Key>x</Key></Object></Delete>'
expect_exit 0 -- s3_request POST "/$B?delete" --data "$del"
expect_out '^400$'
expect_exit 0 -- s3_request POST "/$B?delete" --data "$del" --content-md5
expect_out '^200$'
expect_out '<Deleted><Key>x</Key></Deleted>'

# --- faults --------------------------------------------------------------------------------------
# 30 % of requests answer 503 (and 10 % SlowDown): awscli retries them, the upload completes.
mkdir -p "$TMP/few"
for i in $(seq 1 40); do echo "$i" >"$TMP/few/g$i"; done
s3_faults '{"error_rate": 0.3, "error_status": 503, "slowdown_rate": 0.1, "seed": 7}' >/dev/null
s3_stats reset >/dev/null
expect_exit 0 -- s3_put_dir "$TMP/few" "s3://$B/few"
check_ge "injected 503s" "$(s3_stat faults error_503)" 1
s3_faults clear >/dev/null
check_eq "keys after retried upload" "$(s3_ls "s3://$B/few/" | wc -l)" 40
# cut GET responses (half the body, then close): awscli's download retries them
s3_faults '{"cut_get_rate": 0.5, "seed": 3}' >/dev/null
s3_stats reset >/dev/null
for i in 1 2 3 4 5 6; do
  expect_exit 0 -- s3_aws s3 cp "s3://$B/few/g$i" "$TMP/g$i"
  check_eq "cut GET retried, g$i" "$(cat "$TMP/g$i" 2>/dev/null)" "$i"
done
check_ge "cut GETs" "$(s3_stat faults cut_get)" 1
s3_faults clear >/dev/null
# the 3rd page of a listing fails (500, always): `aws s3 ls --recursive` fails after retries
s3_faults '{"fail_list_page": 3}' >/dev/null
s3_stats reset >/dev/null
AWS_MAX_ATTEMPTS=3 s3_aws s3 ls --recursive "s3://$B/data/" >"$TMP/out" 2>"$TMP/err"
check_eq "aws s3 ls exit status on a failing page" "$?" 254
expect_err InternalError
check_eq "listing requests (2 pages, then 3 tries of the 3rd)" "$(s3_stat by_operation ListObjectsV2)" 5
s3_faults clear >/dev/null
# DeleteObjects answers AccessDenied for denied keys and deletes the others
s3_faults '{"deny_delete_keys": ["few/g1"]}' >/dev/null
expect_exit 0 -- s3_aws s3api delete-objects --bucket "$B" --output json \
  --delete 'Objects=[{Key=few/g1},{Key=few/g10},{Key=few/g2},{Key=few/g3}]'
check_eq "DeleteObjects with denied keys" "$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(sorted(o["Key"] for o in d.get("Deleted", [])), sorted((e["Key"], e["Code"]) for e in d.get("Errors", [])))' "$TMP/out")" \
  "['few/g2', 'few/g3'] [('few/g1', 'AccessDenied'), ('few/g10', 'AccessDenied')]"
s3_faults clear >/dev/null
check_eq "keys left after DeleteObjects" "$(s3_ls "s3://$B/few/" | wc -l)" 38

# --- recursive delete (one DeleteObject a key with awscli) -------------------------------------
expect_exit 0 -- s3_aws s3 rm --recursive --only-show-errors "s3://$B/"
check_eq "keys left after rm --recursive" "$(s3_ls "s3://$B/" | wc -l)" 0

finish
