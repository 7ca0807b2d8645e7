#!/usr/bin/env bash
# A local S3 for the tests: s3rver (npm, pinned by scripts/install-deps.sh into .deps/node) behind
# tests/s3/strict_proxy.py, both on 127.0.0.1 and free ports.
#
#   s3_server.sh start DIR [--bucket NAME]...   starts both (data under DIR/data), waits until both
#                                               answer, creates the buckets, writes DIR/env
#   s3_server.sh stop DIR                       stops both and waits for them
#
# DIR/env holds `export` lines: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION (us-east-1),
# AWS_ENDPOINT_URL (the proxy: every client goes through it), CKPT_S3_PROXY_ADMIN (the proxy's
# /__faults), CKPT_S3_PROXY_STATS (/__stats) and S3RVER_ENDPOINT (s3rver itself, unchecked: for
# looking behind the proxy's back). Logs: DIR/s3rver.log, DIR/proxy.log (one line per request).
# s3rver is found at $S3RVER, else <source tree>/.deps/node/node_modules/.bin/s3rver. Exits 2 with
# a message when node or s3rver is missing (callers may turn that into 77, "skipped").
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
ACCESS_KEY=ckpt-test-key
SECRET_KEY=ckpt-test-secret

usage() {
  echo "usage: $0 start DIR [--bucket NAME]... | stop DIR" >&2
  exit 2
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL PID: until URL answers (any HTTP status) or PID has ended; at most 30 s.
wait_http() {
  local i
  for ((i = 0; i < 300; i++)); do
    kill -0 "$2" 2>/dev/null || return 1
    python3 - "$1" <<'PY' 2>/dev/null && return 0
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass
PY
    sleep 0.1
  done
  return 1
}

stop_pid() {
  local f=$1 pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill "$pid" 2>/dev/null; then
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || usage
shift 2

case $cmd in
stop)
  stop_pid "$dir/proxy.pid"
  stop_pid "$dir/s3rver.pid"
  ;;
start)
  buckets=()
  while [ $# -gt 0 ]; do
    case $1 in
    --bucket) buckets+=("$2"); shift 2 ;;
    *) usage ;;
    esac
  done
  S3RVER=${S3RVER:-$root/.deps/node/node_modules/.bin/s3rver}
  if ! command -v node >/dev/null 2>&1; then
    echo "s3_server: node (Node.js) not found: run scripts/install-deps.sh" >&2
    exit 2
  fi
  if [ ! -x "$S3RVER" ]; then
    echo "s3_server: s3rver not found at $S3RVER: run scripts/install-deps.sh" >&2
    exit 2
  fi
  mkdir -p "$dir/data"
  dir=$(cd "$dir" && pwd)
  [ -f "$dir/s3rver.pid" ] && "$0" stop "$dir"

  # s3rver: a free port (retried: another process may take it between the probe and the bind).
  for attempt in 1 2 3; do
    s3port=$(free_port)
    # --no-vhost-buckets: the proxy resolves virtual hosts and always forwards path style.
    setsid node "$S3RVER" -d "$dir/data" -a 127.0.0.1 -p "$s3port" --no-vhost-buckets --silent \
      </dev/null >"$dir/s3rver.log" 2>&1 &
    echo $! >"$dir/s3rver.pid"
    wait_http "http://127.0.0.1:$s3port/" "$(cat "$dir/s3rver.pid")" && break
    stop_pid "$dir/s3rver.pid"
    if [ $attempt = 3 ]; then
      echo "s3_server: s3rver did not start; its log:" >&2
      tail -20 "$dir/s3rver.log" >&2
      exit 1
    fi
  done

  rm -f "$dir/proxy.port"
  : >"$dir/proxy.log"
  setsid python3 "$here/strict_proxy.py" --port 0 --port-file "$dir/proxy.port" --upstream "127.0.0.1:$s3port" \
    --s3rver-dir "$dir/data" --key "$ACCESS_KEY:$SECRET_KEY" --log "$dir/proxy.log" \
    </dev/null >"$dir/proxy.out" 2>&1 &
  echo $! >"$dir/proxy.pid"
  for ((i = 0; i < 300; i++)); do
    [ -s "$dir/proxy.port" ] && break
    kill -0 "$(cat "$dir/proxy.pid")" 2>/dev/null || break
    sleep 0.1
  done
  proxyport=$(cat "$dir/proxy.port" 2>/dev/null || true)
  if [ -z "$proxyport" ] || ! wait_http "http://127.0.0.1:$proxyport/__stats" "$(cat "$dir/proxy.pid")"; then
    echo "s3_server: the strict proxy did not start:" >&2
    tail -20 "$dir/proxy.out" >&2
    "$0" stop "$dir"
    exit 1
  fi

  cat >"$dir/env" <<EOF
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$SECRET_KEY
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL=http://127.0.0.1:$proxyport
export CKPT_S3_PROXY_ADMIN=http://127.0.0.1:$proxyport/__faults
export CKPT_S3_PROXY_STATS=http://127.0.0.1:$proxyport/__stats
export S3RVER_ENDPOINT=http://127.0.0.1:$s3port
EOF
  # Buckets straight at s3rver (anonymous PUT /NAME): no client needed here.
  for b in ${buckets[@]+"${buckets[@]}"}; do
    python3 - "$s3port" "$b" <<'PY' || { echo "s3_server: could not create bucket $b" >&2; "$0" stop "$dir"; exit 1; }
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
c.request("PUT", "/" + sys.argv[2])
r = c.getresponse()
ok = r.status == 200
ok or print(r.status, r.read().decode(), file=sys.stderr)
sys.exit(0 if ok else 1)
PY
  done
  echo "s3_server: s3rver on 127.0.0.1:$s3port, strict proxy on 127.0.0.1:$proxyport ($dir/env)" >&2
  ;;
*) usage ;;
esac
