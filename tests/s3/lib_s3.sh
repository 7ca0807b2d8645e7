# Helpers for tests over S3 (source after tests/cli/lib.sh, which sets $TMP, fail, finish...):
# a local s3rver behind tests/s3/strict_proxy.py (tests/s3/s3_server.sh), reached with the AWS
# CLI (Debian's /usr/bin/aws, path-style addressing, through the proxy: a known-good client keeps
# the proxy's own checks honest).
#
#   s3_start              starts the servers under $TMP/s3 and exports the variables of its env
#                         (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL,
#                         CKPT_S3_PROXY_ADMIN, CKPT_S3_PROXY_STATS, S3RVER_ENDPOINT); exits 77
#                         ("skipped") when node, s3rver or awscli is missing; stops them on EXIT;
#                         CKPT_CACHE_DIR=none (ckpt's object cache off)
#   s3_aws ARGS...        the AWS CLI at the proxy (e.g. s3_aws s3api head-object --bucket b --key k)
#   s3_mb BUCKET          creates a bucket
#   s3_put_dir DIR s3://BUCKET/PREFIX    uploads DIR's files under PREFIX/
#   s3_ls s3://BUCKET/PREFIX             every key under PREFIX, one a line, in S3's order
#   s3_faults JSON        the proxy's fault configuration (s3_faults '{}' or s3_faults clear: none)
#   s3_stats [reset]      the proxy's request counts (JSON); `reset` zeroes them after printing
#   s3_stat FIELD...      one number of them (s3_stat by_operation GetObject), 0 if absent
#   s3_request ARGS...    one signed request of tests/s3/s3_request.py (status line, then body)
S3_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
S3_AWS_BIN=${S3_AWS_BIN:-/usr/bin/aws} # not `aws`: pyenv shims may shadow Debian's awscli
: "${TMP:=$(mktemp -d)}"

s3_stop() {
  [ -n "${S3_DIR:-}" ] && "$S3_HERE/s3_server.sh" stop "$S3_DIR" 2>/dev/null
  return 0
}

s3_start() {
  S3_DIR=$TMP/s3
  mkdir -p "$S3_DIR"
  if [ ! -x "$S3_AWS_BIN" ]; then
    echo "awscli not found at $S3_AWS_BIN (scripts/install-deps.sh installs it): skipped"
    exit 77
  fi
  local rc=0
  "$S3_HERE/s3_server.sh" start "$S3_DIR" "$@" 2>"$S3_DIR/start.err" || rc=$?
  if [ "$rc" = 2 ]; then
    echo "$(cat "$S3_DIR/start.err"): skipped"
    exit 77
  elif [ "$rc" != 0 ]; then
    cat "$S3_DIR/start.err" >&2
    echo "FAIL: the local S3 servers did not start" >&2
    exit 1
  fi
  trap 's3_stop; rm -rf "$TMP"' EXIT
  # shellcheck disable=SC1091
  . "$S3_DIR/env"
  # awscli 2.9 reads no AWS_ENDPOINT_URL (s3_aws passes --endpoint-url); path-style, and retries
  # enough that the proxy's injected errors (e.g. 20 % 503) never exhaust them.
  export AWS_CONFIG_FILE=$S3_DIR/aws-config AWS_SHARED_CREDENTIALS_FILE=$S3_DIR/aws-credentials
  : >"$AWS_SHARED_CREDENTIALS_FILE"
  cat >"$AWS_CONFIG_FILE" <<EOF
[default]
region = us-east-1
retry_mode = standard
max_attempts = 10
s3 =
  addressing_style = path
EOF
  export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true
  # ckpt's cache of `_metadata` objects off: each test sees every read it causes, and never the
  # user's cache (tests/s3/test_s3_cache.sh turns it on in a directory of its own).
  export CKPT_CACHE_DIR=none
}

s3_aws() {
  "$S3_AWS_BIN" --endpoint-url "$AWS_ENDPOINT_URL" "$@"
}

s3_mb() {
  s3_aws s3 mb "s3://$1" >/dev/null
}

s3_put_dir() {
  s3_aws s3 cp --recursive --only-show-errors "$1" "${2%/}/"
}

# s3_ls URI: the keys under URI, one a line. A reader that stops early (`| grep -q .`) must not
# turn the listing into a failure under pipefail, so SIGPIPE is ignored (in this subshell only)
# and a write into a closed pipe is not an error.
s3_ls() (
  trap '' PIPE
  u=${1#s3://}
  bucket=${u%%/*}
  prefix=${u#"$bucket"}
  prefix=${prefix#/}
  keys=$(s3_aws s3api list-objects-v2 --bucket "$bucket" --prefix "$prefix" --output json |
    python3 -c 'import json, sys
t = sys.stdin.read().strip()
for o in (json.loads(t).get("Contents") or []) if t else []:
    print(o["Key"])') || exit
  [ -z "$keys" ] || printf '%s\n' "$keys" 2>/dev/null || true
)

s3_faults() {
  local method=POST data=$1
  if [ "$1" = clear ]; then method=DELETE; data=""; fi
  python3 - "$CKPT_S3_PROXY_ADMIN" "$method" "$data" <<'PY'
import sys, urllib.request
url, method, data = sys.argv[1:4]
req = urllib.request.Request(url, data=data.encode() if data else None, method=method)
sys.stdout.write(urllib.request.urlopen(req, timeout=10).read().decode())
PY
}

s3_stats() {
  python3 - "$CKPT_S3_PROXY_STATS" "${1:-}" <<'PY'
import sys, urllib.request
url, reset = sys.argv[1:3]
print(urllib.request.urlopen(url, timeout=10).read().decode().strip())
if reset:
    urllib.request.urlopen(urllib.request.Request(url, method="DELETE"), timeout=10).read()
PY
}

s3_stat() {
  s3_stats | python3 -c 'import json, sys
d = json.load(sys.stdin)
for k in sys.argv[1:]:
    d = d.get(k, 0) if isinstance(d, dict) else 0
print(d)' "$@"
}

s3_request() {
  python3 "$S3_HERE/s3_request.py" "$@"
}
