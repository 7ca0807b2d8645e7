#!/usr/bin/env python3
"""The layers of lib/, checked: every `#include "FOLDER/..."` in lib/ and cli/ must follow an edge
of ALLOWED below (a folder may always include its own headers). Fails with one line per offending
include, naming the file, the line and the edge. Run by ctest (test "layering").

The picture (docs/ARCHITECTURE.md): util and io at the bottom; flink (the _metadata model, reader
and writer) on io; snapshot (finding snapshots, paths, the reference graph) and codec (the model
as protobuf and JSON) on flink; rocks (RocksDB files) on snapshot; validate on all of those; ops
(the commands as library functions) on validate; export (the per-command --json renderers) on
ops; pipeline (the bundled job) beside ops, never under it. cli may include anything of lib/.
"""
import os
import re
import sys

ALLOWED = {
    "util": set(),
    "io": {"util"},
    "storage": {"io", "util"},
    "flink": {"io", "util"},
    "state": {"io", "util"},
    "codec": {"flink", "io", "util"},
    "snapshot": {"storage", "flink", "io", "util"},
    "rocks": {"snapshot", "state", "flink", "io", "util", "storage"},
    "validate": {"rocks", "snapshot", "state", "codec", "flink", "io", "util", "storage"},
    "ops": {"storage", "validate", "rocks", "snapshot", "state", "codec", "flink", "io", "util"},
    "export": {"storage", "ops", "validate", "rocks", "snapshot", "state", "codec", "flink", "io", "util"},
    "pipeline": {"rocks", "snapshot", "state", "flink", "io", "util", "storage"},
    "cli": {"storage", "export", "ops", "validate", "rocks", "snapshot", "state", "codec", "flink", "io", "util", "pipeline"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([A-Za-z_]+)/')


def main(root):
    problems = []
    folders = [os.path.join("lib", d) for d in sorted(os.listdir(os.path.join(root, "lib")))] + ["cli"]
    for folder in folders:
        layer = os.path.basename(folder)
        if layer not in ALLOWED:
            problems.append(f"{folder}/: a folder the layering does not know; add it to ALLOWED in {sys.argv[0]}")
            continue
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for name in sorted(files):
                if not name.endswith((".h", ".cpp")):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        target = m.group(1)
                        if target == layer or target not in ALLOWED:
                            continue  # its own headers; system or generated headers ("CLI/", ...)
                        if target not in ALLOWED[layer]:
                            rel = os.path.relpath(path, root)
                            problems.append(f"{rel}:{n}: {layer} -> {target} is not an allowed edge")
    for p in problems:
        print(p)
    print(f"layering: {len(problems)} problem(s) in {len(folders)} folders")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")))
