#!/usr/bin/env bash
# gs:// is GCS through its S3-compatible API with HMAC keys: the same SigV4 requests as s3://,
# at the endpoint https://storage.googleapis.com unless one is given. Here the endpoint is mapped
# to the local S3 (s3rver behind the strict SigV4 proxy) with -D s3.endpoint (Flink's key) and
# with AWS_ENDPOINT_URL, and the HMAC key pair is given as Flink's s3.access-key/s3.secret-key:
# inspect, validate --deep and diff read a savepoint at gs://, convert --self-contained writes
# one there.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../cli/lib.sh
. "$here/../cli/lib.sh" "$1" "$2"
# shellcheck source=lib_s3.sh
. "$here/lib_s3.sh"

need_fixtures
sp=$FIXTURES/stateful-scala-udf-migration-itcase-flink1.20-rocksdb-savepoint # relative handles only
[ -f "$sp/_metadata" ] || { echo "fixture $sp not found: skipped"; exit 77; }
s3_start
B=ckpt-gcs
s3_mb "$B" || fail "mb $B"
s3_put_dir "$sp" "s3://$B/savepoints/sp-1" || fail "upload"
endpoint=$AWS_ENDPOINT_URL
# HMAC keys as Flink's keys, nothing from the environment: no AWS_* variable, no profile files.
hmac=(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_ENDPOINT_URL -u AWS_PROFILE
      AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_CONFIG_FILE=/nonexistent)
keys=(-D "s3.access-key=$AWS_ACCESS_KEY_ID" -D "s3.secret-key=$AWS_SECRET_ACCESS_KEY")

# --- read, the endpoint mapped with -D s3.endpoint ------------------------------------------
expect_exit 0 -- "${hmac[@]}" "$CKPT" inspect "${keys[@]}" -D "s3.endpoint=$endpoint" "gs://$B/savepoints/sp-1"
expect_out "snapshot    gs://$B/savepoints/sp-1/_metadata"
expect_out "kind        savepoint"
expect_exit 0 -- "${hmac[@]}" "$CKPT" inspect "${keys[@]}" -D "s3.endpoint=$endpoint" "gs://$B/savepoints"
expect_out "gs://$B/savepoints/sp-1"
expect_exit 0 -- "${hmac[@]}" "$CKPT" validate --deep "${keys[@]}" -D "s3.endpoint=$endpoint" "gs://$B/savepoints/sp-1"
expect_out "gs://$B/savepoints/sp-1/_metadata: valid \(0 errors, 0 warnings.* 5 of 5 files checked"
expect_exit 0 -- "${hmac[@]}" "$CKPT" diff "${keys[@]}" -D "s3.endpoint=$endpoint" "gs://$B/savepoints/sp-1" "$sp"
expect_out "equal"
# The endpoint given without a scheme, as Flink's s3.endpoint often is: https://, which the
# plain-HTTP proxy cannot answer; the error names the gs:// object, one line, exit 2.
expect_exit 2 -- "${hmac[@]}" "$CKPT" inspect "${keys[@]}" -D "s3.endpoint=${endpoint#http://}" "gs://$B/savepoints/sp-1"
expect_err "gs://$B/savepoints/sp-1"
checks=$((checks + 1))
[ "$(wc -l <"$TMP/err")" = 1 ] || fail "an unreachable gs:// endpoint is not one line: $(cat "$TMP/err")"

# --- read, the endpoint mapped with AWS_ENDPOINT_URL ------------------------------------------
expect_exit 0 -- "${hmac[@]}" AWS_ENDPOINT_URL="$endpoint" "$CKPT" validate "${keys[@]}" "gs://$B/savepoints/sp-1/_metadata"
expect_out "valid \(0 errors"
# -D s3.endpoint wins over AWS_ENDPOINT_URL.
expect_exit 0 -- "${hmac[@]}" AWS_ENDPOINT_URL=http://127.0.0.1:1 "$CKPT" inspect "${keys[@]}" -D "s3.endpoint=$endpoint" \
  "gs://$B/savepoints/sp-1"
# A wrong HMAC secret: the proxy's SignatureDoesNotMatch, one line naming the gs:// prefix.
expect_exit 2 -- "${hmac[@]}" "$CKPT" inspect -D "s3.access-key=$AWS_ACCESS_KEY_ID" -D s3.secret-key=wrong \
  -D "s3.endpoint=$endpoint" "gs://$B/savepoints"
expect_err "gs://$B/savepoints/: .*HTTP 403 SignatureDoesNotMatch"

# --- write: a self-contained copy into gs://, from the gs:// savepoint ------------------------
expect_exit 0 -- "${hmac[@]}" "$CKPT" convert "${keys[@]}" -D "s3.endpoint=$endpoint" "gs://$B/savepoints/sp-1" \
  --self-contained "gs://$B/savepoints/sp-2"
expect_out "into gs://$B/savepoints/sp-2"
expect_exit 0 -- "${hmac[@]}" "$CKPT" validate --deep "${keys[@]}" -D "s3.endpoint=$endpoint" "gs://$B/savepoints/sp-2"
expect_out "valid \(0 errors, 0 warnings"
expect_exit 0 -- "${hmac[@]}" "$CKPT" diff "${keys[@]}" -D "s3.endpoint=$endpoint" "gs://$B/savepoints/sp-2" "$sp"
expect_out "equal"
# An input that cannot be compacted (a canonical savepoint): one line naming its gs:// object, not
# the staged copy; nothing written.
expect_exit 2 -- "${hmac[@]}" "$CKPT" compact "${keys[@]}" -D "s3.endpoint=$endpoint" "gs://$B/savepoints/sp-1" \
  -o "gs://$B/savepoints/compacted"
expect_err "^ckpt compact: gs://$B/savepoints/sp-1/_metadata: nothing to compact"
checks=$((checks + 1))
grep -q "ckpt-stage-" "$TMP/err" && fail "the error names the staged copy: $(cat "$TMP/err")"
[ -z "$(s3_ls "s3://$B/savepoints/compacted")" ] || fail "a refused compact wrote into the store"
checks=$((checks + 1))
# The same bucket as s3:// (one store): the objects are there.
mkdir -p "$TMP/sp-2"
s3_aws s3 cp --only-show-errors "s3://$B/savepoints/sp-2/_metadata" "$TMP/sp-2/_metadata" || fail "download"
oracle_read "$TMP/sp-2/_metadata"

finish
