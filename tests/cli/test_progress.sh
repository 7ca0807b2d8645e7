#!/usr/bin/env bash
# Progress on stderr: only on a terminal (script(1) gives one), never with -q, and always
# erased ("\r\033[K") before the command's own output; nothing when stderr is not a terminal.
source "$(dirname "$0")/lib.sh"
need_fixtures
SNAP=$FIXTURES/new-stateful-udf-migration-itcase-flink1.20-rocksdb-savepoint

# No terminal: stderr stays empty.
expect_exit 0 -- "$CKPT" pack "$SNAP" "$TMP/a.ckpt.zst"
checks=$((checks + 1))
[ -s "$TMP/err" ] && fail "pack without a TTY wrote to stderr: $(head -c 200 "$TMP/err")"
expect_exit 0 -- "$CKPT" unpack "$TMP/a.ckpt.zst" "$TMP/a"
checks=$((checks + 1))
[ -s "$TMP/err" ] && fail "unpack without a TTY wrote to stderr"
"$CKPT" validate --deep "$SNAP" >"$TMP/out" 2>"$TMP/err"
checks=$((checks + 1))
grep -q $'\r' "$TMP/err" && fail "validate --deep without a TTY drew progress"

if ! command -v script >/dev/null 2>&1; then
  echo "note: script(1) not installed: progress on a terminal not checked" >&2
  finish
fi
# tty_run NAME CMD...: runs CMD under a pseudo-terminal, its output (stdout and stderr) in $TMP/NAME.
tty_run() {
  local name=$1 cmd="" a
  shift
  for a in "$@"; do cmd+=" $(printf '%q' "$a")"; done
  script -qec "$cmd" /dev/null >"$TMP/$name" 2>&1 </dev/null
}
# drawn_then_cleared FILE LABEL: a progress line for LABEL was drawn, and the last one was erased.
drawn_then_cleared() {
  checks=$((checks + 1))
  grep -qa $'\r'"$2: " "$1" || fail "$2: no progress line on a terminal"
  checks=$((checks + 1))
  local last_draw last_clear
  last_draw=$(grep -boa $'\r'"$2: " "$1" | tail -1 | cut -d: -f1)
  last_clear=$(grep -boa $'\r\033\\[K' "$1" | tail -1 | cut -d: -f1)
  [ -n "$last_clear" ] && [ -n "$last_draw" ] && [ "$last_clear" -gt "$last_draw" ] ||
    fail "$2: the progress line is not erased at the end"
}
tty_run pack "$CKPT" pack "$SNAP" "$TMP/b.ckpt.zst"
drawn_then_cleared "$TMP/pack" pack
checks=$((checks + 1))
grep -qa "^packed " "$TMP/pack" || grep -qa $'\033\\[Kpacked ' "$TMP/pack" || fail "pack: the summary does not start a clean line"
tty_run unpack "$CKPT" unpack "$TMP/b.ckpt.zst" "$TMP/b"
drawn_then_cleared "$TMP/unpack" unpack
tty_run validate "$CKPT" validate --deep "$SNAP"
drawn_then_cleared "$TMP/validate" validate
tty_run convert "$CKPT" convert --self-contained "$TMP/sc" --copy "$SNAP"
drawn_then_cleared "$TMP/convert" "convert --self-contained"
# gc apply: one line per deletion counted; none without a terminal.
make_root() {
  rm -rf "$TMP/root"
  cp -r "$FIXTURES/real-job-flink1.18-hashmap-retained-checkpoint" "$TMP/root"
  local job
  job=$(ls "$TMP/root")
  mkdir -p "$TMP/root/$job/shared"
  for i in 1 2 3; do echo x >"$TMP/root/$job/shared/orphan$i"; done
  touch -d '2 days ago' "$TMP/root/$job/shared/"orphan*
}
if [ -d "$FIXTURES/real-job-flink1.18-hashmap-retained-checkpoint" ]; then
  make_root
  expect_exit 0 -- "$CKPT" gc "$TMP/root"
  checks=$((checks + 1))
  [ -s "$TMP/err" ] && fail "gc without a TTY wrote to stderr: $(head -c 200 "$TMP/err")"
  expect_out "^Deleted 3 files"
  make_root
  tty_run gc "$CKPT" gc "$TMP/root"
  drawn_then_cleared "$TMP/gc" "ckpt gc"
  checks=$((checks + 1))
  grep -qa "3 of 3 deletions\|1 of 3 deletions" "$TMP/gc" || fail "gc: progress does not count deletions"
fi
# -q: no progress, even on a terminal.
tty_run quiet "$CKPT" -q pack "$SNAP" "$TMP/c.ckpt.zst"
checks=$((checks + 1))
grep -qa $'\rpack: ' "$TMP/quiet" && fail "pack -q drew progress"
tty_run quiet2 "$CKPT" unpack -q "$TMP/c.ckpt.zst" "$TMP/c"
checks=$((checks + 1))
grep -qa $'\runpack: ' "$TMP/quiet2" && fail "unpack -q drew progress"
finish
