// Types read off Java-serialized objects (state spec §3.5, §5.7): the TypeSerializer objects that
// Flink <= 1.7 stored instead of snapshots, and the LogicalType objects inside a RowData
// serializer snapshot. The object tree comes from io/java_serialization.h; no class is loaded, the
// type is recognised by class name and read from the fields the spec names.
#pragma once

#include "io/java_serialization.h"
#include "state/type.h"

namespace ckpt::state {

// The type a serializer object writes; kOpaque (with the serializer's class as snapshot_class)
// when ckpt does not know the class or a nested serializer it needs.
Type type_of_serializer_object(const io::java::Node* serializer);

// A Flink SQL LogicalType object (org.apache.flink.table.types.logical.*Type); root "UNKNOWN"
// when the object is not one.
LogicalType logical_type_of(const io::java::Node* type);

// The class name of an object node ("" for null or a non-object).
std::string_view class_of(const io::java::Node* obj);

}  // namespace ckpt::state
