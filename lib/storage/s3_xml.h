// The XML bodies S3 answers with, read with libxml2 (no network, no entities, names matched
// without namespaces, since S3-compatible servers differ in whether they declare one).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/object_store.h"

namespace ckpt::storage::s3xml {

struct ListPage {
  std::vector<ObjectInfo> objects;  // keys as stored (ListObjectsV2 without encoding-type)
  bool truncated = false;
  std::string next_token;  // NextContinuationToken
};

struct ErrorBody {
  std::string code;     // "NoSuchKey", "SlowDown", ...
  std::string message;  // human text
};

// Each parse throws util::Error (kIo) with `what` in the message when the body is not the
// expected document.
ListPage parse_list(std::string_view xml, std::string_view what);
std::vector<DeleteFailure> parse_delete_result(std::string_view xml, std::string_view what);
std::string parse_upload_id(std::string_view xml, std::string_view what);
// An <Error> document (also inside a 200 of CopyObject or CompleteMultipartUpload); nullopt for
// any other document or an unparsable body.
std::optional<ErrorBody> parse_error(std::string_view xml);

// The DeleteObjects request body for `keys` (Quiet mode: only failures are reported).
std::string delete_request(std::span<const std::string> keys);
// The CompleteMultipartUpload body for parts 1..n with their ETags.
std::string complete_request(const std::vector<std::string>& etags);

// "2026-12-02T20:46:59.123Z" -> ns since the epoch; nullopt when malformed.
std::optional<int64_t> parse_iso8601_ns(std::string_view s);

}  // namespace ckpt::storage::s3xml
