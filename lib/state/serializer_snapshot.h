// Flink's serializer snapshots (state spec §3): the type information stored in every state
// payload's proxy, read into a state::Type.
//
// Nothing in a snapshot is length-prefixed, so the reader must know every class it steps over:
// it knows Flink's own snapshot classes (basic types, tuples, POJOs, collections, Scala types,
// windows, timers, TTL, the table runtime's RowData family, Avro, Kryo, CEP) in their current
// form (composite snapshots with the 0x000DE704 magic, simple snapshots), the pre-1.8 forms
// (composite versions 1–2, simple version 2), legacy TypeSerializerConfigSnapshots behind the
// adapter version 0x7A53C4F0, and the Java-serialized serializers and resilience blocks of Flink
// 1.3–1.7. A class it does not know ends the read with an io::DecodeError naming the class: its
// extent cannot be found, and guessing could misread every state that follows.
//
// Contract: every function reads exactly one structure from `r` and leaves `r` after it, or
// throws io::DecodeError at the offset where the structure stopped making sense. Lengths are
// checked before anything is allocated; nesting is capped (kMaxNesting).
#pragma once

#include <string_view>

#include "io/byte_reader.h"
#include "state/type.h"

namespace ckpt::state {

inline constexpr int kMaxNesting = 64;

// A top-level snapshot (TypeSerializerSnapshotSerializationUtil): i32 proxy version (2; 1 in
// Flink 1.3–1.6), then a versioned snapshot.
Type read_top_level_snapshot(io::ByteReader& r);

// A nested snapshot (TypeSerializerSnapshot.writeVersionedSnapshot): utf class name, i32 version,
// the class's payload.
Type read_versioned_snapshot(io::ByteReader& r, int depth = 0);

// A Java-serialized serializer block (TypeSerializerSerializationProxy, Flink <= 1.7): i32 version
// 1, i32 length, the ObjectOutputStream bytes. The type is read off the serializer object's class
// and fields; kOpaque when the class is not one ckpt knows (its extent is known either way).
Type read_java_serializer_block(io::ByteReader& r);

// The type of a Java-serialized TypeSerializer stream (no length prefix: the stream grammar
// delimits it); advances `r` past it.
Type read_java_serializer_object(io::ByteReader& r);

// A resilience block (Flink 1.3–1.7): n (serializer, config snapshot) pairs at recorded offsets.
// Returns one Type per pair, taken from the serializer (or from the config snapshot when the
// serializer is not understood).
std::vector<Type> read_resilience_block(io::ByteReader& r);

}  // namespace ckpt::state
