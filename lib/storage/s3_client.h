// HTTP requests to one S3 bucket, on libcurl: SigV4 signing by curl itself (CURLOPT_AWS_SIGV4),
// kept-alive connections, a bounded number of requests in flight (curl multi), and retries with
// exponential backoff and full jitter on 500, 502, 503 (SlowDown), 504, RequestTimeout, timeouts
// and dropped or cut connections. Every failure that is final becomes one line naming the
// object, the request, the HTTP status and S3's error code:
//   "s3://bucket/ck/chk-5/_metadata: GET: HTTP 403 AccessDenied: Access Denied"
// Not thread-safe: one client per thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/s3_settings.h"
#include "util/error.h"

namespace ckpt::storage {

struct S3Request {
  std::string operation;       // S3's name for it, for messages: "GetObject", "ListObjectsV2 page 2"
  std::string subject;         // the key messages name when it is not `key` (a listed prefix)
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string key;             // the object; empty for a request on the bucket
  std::vector<std::pair<std::string, std::string>> query;  // unencoded; sent sorted, as signed
  std::vector<std::string> headers;                        // "name: value", signed when x-amz-*
  std::string body;
  std::optional<std::pair<uint64_t, uint64_t>> range;  // offset, length (length > 0)
  uint64_t max_response = uint64_t{64} << 20;          // a longer body is an error, not an allocation
  bool not_found_is_answer = false;                    // HEAD/GET of a key that may not exist
  std::string download_to;  // GET: the body goes to this local file (rewritten on each attempt)
};

struct S3Response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  // Set when the request failed for good (after retries): the one-line message and its kind.
  std::string error;
  util::ErrorKind kind = util::ErrorKind::kIo;
  bool ok() const { return error.empty(); }
};

class S3Client {
 public:
  S3Client(S3Settings settings, std::string scheme, std::string bucket);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  const S3Settings& settings() const { return settings_; }
  // "s3://bucket/key", with the scheme the user wrote.
  std::string uri(std::string_view key) const;

  // One request; throws util::Error with the response's message when it failed for good.
  S3Response perform(const S3Request& request);
  // Many requests, at most settings().parallelism in flight; responses in request order, each
  // with its own error (none thrown).
  std::vector<S3Response> perform_all(const std::vector<S3Request>& requests);

  // Requests sent so far, retries included (benchmarks and tests).
  uint64_t requests_sent() const { return requests_sent_; }

 private:
  struct Impl;
  S3Settings settings_;
  std::string scheme_, bucket_;
  std::unique_ptr<Impl> impl_;
  uint64_t requests_sent_ = 0;
};

// S3's URI encoding (RFC 3986 unreserved characters kept; '/' kept when `keep_slash`).
std::string s3_encode(std::string_view s, bool keep_slash);
// Hex SHA-256, hex MD5 and base64 MD5 of `bytes` (x-amz-content-sha256, a plain ETag,
// Content-MD5).
std::string sha256_hex(std::string_view bytes);
std::string md5_hex(std::string_view bytes);
std::string md5_base64(std::string_view bytes);

}  // namespace ckpt::storage
