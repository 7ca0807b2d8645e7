#!/usr/bin/env bash
# ckpt prune and ckpt gc end to end: generated roots (made with the writer by bench_prune gen),
# the real fixtures copied into a job layout under a temp dir, hostile inputs, JSON.
source "$(dirname "$0")/lib.sh"
GEN="$(dirname "$CKPT")/tests/bench/bench_prune"
[ -x "$GEN" ] || { echo "bench_prune not built (CKPT_BENCH=OFF): skipped"; exit 77; }
NOW=1700100000   # a day after the generated histories

root=$TMP/root
"$GEN" gen "$root" 10 4 5 2 1 >/dev/null
job=$(ls "$root")

# Usage errors.
expect_exit 2 -- "$CKPT" prune "$root"
expect_err "empty policy"
expect_exit 2 -- "$CKPT" prune "$root" --retain 0
expect_exit 2 -- "$CKPT" prune "$root" --retain 1 --map nonsense
expect_err "--map nonsense: expected PREFIX=DIR"
expect_exit 2 -- "$CKPT" prune "$root" --keep-within 3x
expect_exit 2 -- "$CKPT" prune "$root" --retain 2 --grace soon
expect_err "--grace soon: expected a duration such as 500ms"
expect_exit 2 -- "$CKPT" prune "$root" --retain 2 --grace 1h30m   # Flink has no compound durations
expect_exit 2 -- "$CKPT" prune "$root/$job/chk-1" --retain 2 --now $NOW
expect_err "is a snapshot directory"
expect_exit 2 -- "$CKPT" gc "$TMP/absent"
expect_exit 0 -- "$CKPT" prune --help
expect_exit 0 -- "$CKPT" gc --help

# Dry run: the plan, nothing deleted.
before=$(find "$root" | wc -l)
expect_exit 0 -- "$CKPT" prune "$root" --retain 3 --dry-run --now $NOW
expect_out "keep +retain"
expect_out "pruned-metadata"
expect_out "released"
expect_out "Would delete [0-9]+ files and 7 directories"
[ "$(find "$root" | wc -l)" = "$before" ] || fail "dry run deleted something"
expect_exit 0 -- "$CKPT" prune "$root" --retain 3 --dry-run --json --now $NOW
python3 - "$TMP/out" <<'PY' || fail "prune --json plan"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["command"] == "prune" and d["dryRun"] is True, d.keys()
kept = [s for s in d["snapshots"] if s.get("keep")]
assert len(kept) == 3 and all(s["rules"] == ["retain"] for s in kept)
assert d["deletions"][0]["reason"] == "PRUNED_METADATA"
assert int(d["totals"]["filesDeleted"]) == len([x for x in d["deletions"] if x["type"] == "FILE"])
assert all(s["kind"] == "CHECKPOINT" for s in d["snapshots"]), [s["kind"] for s in d["snapshots"]]
assert "outcome" not in d
PY

# --config takes N from state.checkpoints.num-retained.
printf 'state:\n  checkpoints:\n    num-retained: 4\n' > "$TMP/config.yaml"
expect_exit 0 -- "$CKPT" prune "$root" --config "$TMP/config.yaml" --dry-run --now $NOW
expect_out "retain 4 \(from"
printf 'parallelism.default: 2\n' > "$TMP/bad.yaml"
expect_exit 2 -- "$CKPT" prune "$root" --config "$TMP/bad.yaml" --dry-run
expect_err "default is 1"
# Mixed nested and flat keys; the Flink 2 key wins over its deprecated 1.x key, as in Flink.
printf 'state.checkpoints.num-retained: 2\nexecution:\n  checkpointing:\n    num-retained: 5\n' > "$TMP/both.yaml"
expect_exit 0 -- "$CKPT" prune "$root" --config "$TMP/both.yaml" --dry-run --now $NOW
expect_out "retain 5 \(from"
expect_err "warning: --config .*both.yaml: state.checkpoints.num-retained=2 and execution.checkpointing.num-retained=5 set the same option; using execution.checkpointing.num-retained"
printf 'execution:\n  checkpointing:\n    num-retained: [5\n' > "$TMP/broken.yaml"
expect_exit 2 -- "$CKPT" prune "$root" --config "$TMP/broken.yaml" --dry-run
expect_err "broken.yaml:[0-9]+: invalid YAML"
printf 'execution.checkpointing.num-retained: many\n' > "$TMP/nan.yaml"
expect_exit 2 -- "$CKPT" prune "$root" --config "$TMP/nan.yaml" --dry-run
expect_err "nan.yaml:1: execution.checkpointing.num-retained: 'many', expected a positive integer"

# --explain FILE.
f=$(ls "$root/$job/shared" | head -1)
expect_exit 0 -- "$CKPT" prune "$root" --retain 3 --explain "$root/$job/shared/$f" --now $NOW
expect_out "used by +[0-9]+ snapshot"
expect_out "verdict"
expect_exit 0 -- "$CKPT" gc "$root" --explain "$root/$job/shared/$f" --json --now $NOW
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["referenced"] and d["uses"], d' "$TMP/out" \
  || fail "gc --explain --json"

# Apply; every kept snapshot still validates; a rerun has nothing left to do.
expect_exit 0 -- "$CKPT" prune "$root" --retain 3 --now $NOW
expect_out "Deleted [0-9]+ files and 7 directories"
[ "$(ls -d "$root/$job"/chk-* | wc -l)" = 3 ] || fail "expected 3 checkpoints left"
expect_exit 0 -- "$CKPT" validate "$root"
expect_exit 0 -- "$GEN" check "$root"
expect_exit 0 -- "$CKPT" prune "$root" --retain 3 --dry-run --now $NOW
expect_out "Would delete 0 files and 0 directories"

# gc: orphans and incomplete checkpoints older than --grace go; young ones stay.
touch -d @$((NOW - 7200)) "$root/$job/shared/orphan-old"
touch -d @$((NOW - 60)) "$root/$job/shared/orphan-young"
mkdir -p "$root/$job/chk-99" && touch -d @$((NOW - 7200)) "$root/$job/chk-99/part" "$root/$job/chk-99"
mkdir -p "$root/$job/chk-100" && touch -d @$((NOW - 10)) "$root/$job/chk-100/inflight"
expect_exit 0 -- "$CKPT" gc "$root" --now $NOW
[ ! -e "$root/$job/shared/orphan-old" ] || fail "old orphan kept"
[ -e "$root/$job/shared/orphan-young" ] || fail "young orphan deleted"
[ ! -e "$root/$job/chk-99" ] || fail "old incomplete checkpoint kept"
[ -e "$root/$job/chk-100/inflight" ] || fail "in-flight checkpoint touched"
expect_exit 0 -- "$CKPT" gc "$root" --now $NOW --grace 0 --dry-run
expect_out "orphan-young"
# Flink's duration syntax: "30 min", "30min", "1 h"; a plain number is milliseconds.
# orphan-young is 60 s old: kept by a grace over a minute, deleted by a shorter one.
for g in "30 min" 30min "1 h" "2 minutes"; do
  expect_exit 0 -- "$CKPT" gc "$root" --now $NOW --grace "$g" --dry-run
  expect_out "younger than grace .*orphan-young"
done
for g in 30s "30 sec" 30000; do
  expect_exit 0 -- "$CKPT" gc "$root" --now $NOW --grace "$g" --dry-run
  expect_out "grace 30s"
  expect_out "^orphan .*orphan-young"
done

# Referenced but missing: reported (exit 1), never "fixed".
victim=$(ls "$root/$job/chk-10" | grep -v _metadata | head -1)
mv "$root/$job/chk-10/$victim" "$TMP/victim"
expect_exit 1 -- "$CKPT" gc "$root" --now $NOW --dry-run
expect_out "MISSING OR SHORT"
mv "$TMP/victim" "$root/$job/chk-10/$victim"

# Fail closed: an unreadable _metadata refuses (exit 2) unless --skip-unreadable.
mkdir -p "$root/$job/chk-50" && printf 'junk' > "$root/$job/chk-50/_metadata"
expect_exit 2 -- "$CKPT" gc "$root" --now $NOW
expect_err "refused: .*chk-50/_metadata"
expect_exit 0 -- "$CKPT" gc "$root" --now $NOW --skip-unreadable --dry-run
expect_err "kept whole"
rm -rf "$root/$job/chk-50"

# Hostile: symbolic links out of the root are never followed nor deleted; a root that is a link
# is refused.
mkdir -p "$TMP/outside" && touch -d @$((NOW - 9999)) "$TMP/outside/precious"
ln -s "$TMP/outside/precious" "$root/$job/shared/link-out"
ln -s "$TMP/outside" "$root/$job/taskowned/dir-out"
ln -s "$TMP/outside" "$root/$job/chk-77"
expect_exit 0 -- "$CKPT" gc "$root" --now $NOW
[ -e "$TMP/outside/precious" ] && [ -L "$root/$job/shared/link-out" ] || fail "a symbolic link was followed or deleted"
ln -s "$root" "$TMP/root-link"
expect_exit 2 -- "$CKPT" gc "$TMP/root-link" --now $NOW
expect_err "symbolic link"

# Two at once: the second is refused.
exec 9<"$root"
flock -x 9
expect_exit 2 -- "$CKPT" gc "$root" --now $NOW
expect_err "another ckpt prune or gc"
flock -u 9
exec 9<&-

# Permission errors (needs root to drop to an unprivileged uid).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  proot=$TMP/perm
  "$GEN" gen "$proot" 3 2 2 1 >/dev/null
  mkdir -p "$proot/locked"
  chmod -R a+rwX "$TMP" && chmod 700 "$proot/locked"
  expect_exit 2 -- setpriv --reuid=65534 --regid=65534 --clear-groups "$CKPT" gc "$proot" --now $NOW
  expect_err "locked.*(cannot|denied)"
fi

# Real fixtures: three snapshots copied into a job layout (relative handles resolve in chk-N).
if [ -d "$FIXTURES" ]; then
  froot=$TMP/fixtures-root
  fjob=$froot/0123456789abcdef0123456789abcdef
  mkdir -p "$fjob/shared" "$fjob/taskowned"
  i=0
  for name in new-stateful-udf-migration-itcase-flink1.18-hashmap-checkpoint \
              new-stateful-udf-migration-itcase-flink1.19-hashmap-checkpoint \
              new-stateful-udf-migration-itcase-flink1.20-hashmap-checkpoint; do
    [ -d "$FIXTURES/$name" ] || continue
    i=$((i + 1))
    cp -r "$FIXTURES/$name" "$fjob/chk-$i"
    find "$fjob/chk-$i" -exec touch -d @$((NOW - 100000 + i)) {} +
  done
  if [ "$i" -ge 2 ]; then
    expect_exit 0 -- "$CKPT" prune "$froot" --retain 1 --now $NOW
    [ "$(ls -d "$fjob"/chk-* | wc -l)" = 1 ] || fail "fixtures: expected one checkpoint left"
    expect_exit 0 -- "$CKPT" validate "$fjob/chk-$i"
  else
    fail "fixture checkpoints not found"
  fi
  # The fixture tree itself: one unreadable (version 0) snapshot makes gc refuse; with
  # --skip-unreadable there is nothing to delete (no job layout); the absolute paths of the
  # machines the fixtures were made on are reported missing (exit 1).
  expect_exit 2 -- "$CKPT" gc "$FIXTURES" --dry-run
  expect_err "version 0"
  expect_exit 1 -- "$CKPT" gc "$FIXTURES" --dry-run --skip-unreadable
  expect_out "Would delete 0 files and 0 directories"
fi

finish
