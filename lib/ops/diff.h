// `ckpt diff A B`: what changed between two snapshots. Pure: computed from the two models (plus
// their locations, for resolving nothing but display); cli/ renders it as text, --stat or JSON.
// The result is formats/diff.proto's DiffReport itself.
//
// What is compared:
//  * properties: format version, checkpoint id, kind/format/action, retention flags, trailer, masters;
//  * operators, matched by operator id: added, removed, rescaled (parallelism, max parallelism),
//    renamed (V5+ name/uid), and state bytes per category and per subtask (via ops::inspect);
//  * files, by the path their handle names (relative handles by their name, so a moved savepoint
//    compares equal to the original; absolute handles by their URI; segments by path and range):
//    shared by both, new in B, dropped from A, and files whose recorded size changed;
//  * for incremental / native RocksDB handles, per operator and subtask: the `.sst` files added
//    and removed (by physical file, named by their RocksDB name);
//  * finally the `_metadata` encodings: when nothing above differs but the bytes do (handle ids,
//    key-group offsets, inline state), that is reported as `other`.
// Equal means: none of the above differs (exit 0, as diff(1)); `equal` of the report.
#pragma once

#include "diff.pb.h"
#include "ops/snapshot_input.h"

namespace ckpt::ops {

// Operators that differ only (unchanged ones are omitted); sizes of the side that lacks a file: -1.
ckpt::DiffReport diff(const SnapshotInput& a, const SnapshotInput& b);

// A changed operator whose uid or name differs (the report has no field for it).
bool renamed(const ckpt::OperatorDiff& o);

}  // namespace ckpt::ops
