#include "storage/s3_store.h"

#include <charconv>

#include "io/file_bytes.h"
#include "storage/client_libraries.h"
#include "storage/s3_xml.h"
#include "util/error.h"

namespace ckpt::storage {
namespace {

constexpr size_t kDeleteBatch = 1000;  // DeleteObjects' limit

[[noreturn]] void fail(const S3Response& r) { throw util::Error(r.kind, r.error); }

}  // namespace

void S3Store::list(std::string_view prefix, const std::function<void(std::span<const ObjectInfo>)>& page) {
  std::string token;
  for (int n = 1;; ++n) {
    S3Request q;
    q.operation = "ListObjectsV2 page " + std::to_string(n);
    q.subject = std::string(prefix);
    q.query = {{"list-type", "2"}, {"prefix", std::string(prefix)}};
    if (!token.empty()) q.query.emplace_back("continuation-token", token);
    S3Response r = client_->perform(q);
    std::string what = uri(prefix) + ": " + q.operation;
    s3xml::ListPage p = s3xml::parse_list(r.body, what);
    for (const ObjectInfo& o : p.objects) {
      if (!o.key.starts_with(prefix)) {
        throw util::Error(util::ErrorKind::kIo, what + ": the server listed " + o.key + ", outside the prefix");
      }
    }
    page(p.objects);
    if (!p.truncated) return;
    token = p.next_token;
  }
}

std::optional<ObjectInfo> S3Store::stat(std::string_view key) {
  S3Request q;
  q.operation = "HeadObject";
  q.method = "HEAD";
  q.key = std::string(key);
  q.not_found_is_answer = true;
  S3Response r = client_->perform(q);
  if (r.status == 404) return std::nullopt;
  ObjectInfo o;
  o.key = std::string(key);
  const std::string length = r.headers.count("content-length") ? r.headers["content-length"] : "0";
  auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), o.size);
  if (ec != std::errc() || end != length.data() + length.size()) {
    throw util::Error(util::ErrorKind::kIo, uri(key) + ": HeadObject: Content-Length \"" + length + "\" is not a size");
  }
  if (auto it = r.headers.find("last-modified"); it != r.headers.end()) {
    o.modified_unix_ns = static_cast<int64_t>(curl_library().getdate(it->second.c_str(), nullptr)) * 1'000'000'000;
  }
  if (auto it = r.headers.find("etag"); it != r.headers.end()) o.etag = it->second;
  return o;
}

std::string S3Store::read(std::string_view key, uint64_t max_bytes) {
  S3Request q;
  q.operation = "GetObject";
  q.key = std::string(key);
  q.max_response = max_bytes;
  return client_->perform(q).body;
}

std::vector<std::string> S3Store::read_all(std::span<const std::string> keys, uint64_t max_bytes) {
  std::vector<S3Request> gets;
  for (const std::string& k : keys) {
    S3Request q;
    q.operation = "GetObject";
    q.key = k;
    q.max_response = max_bytes;
    gets.push_back(std::move(q));
  }
  std::vector<std::string> out;
  for (S3Response& r : client_->perform_all(gets)) {
    if (!r.ok()) fail(r);
    out.push_back(std::move(r.body));
  }
  return out;
}

std::string S3Store::read_range(std::string_view key, uint64_t offset, uint64_t length) {
  if (length == 0) return {};
  S3Request q;
  q.operation = "GetObject (range)";
  q.key = std::string(key);
  q.range = {offset, length};
  q.max_response = length;
  q.not_found_is_answer = false;
  S3Response r = client_->perform_all({q}).front();
  if (r.status == 416) return {};  // the range starts at or after the end
  if (!r.ok()) fail(r);
  return std::move(r.body);
}

void S3Store::write_atomic(std::string_view key, std::string_view bytes, bool overwrite) {
  std::vector<std::string> headers;
  if (!overwrite) {
    if (stat(key)) throw util::Error(util::ErrorKind::kIo, uri(key) + ": already exists");
    headers.push_back("If-None-Match: *");
  }
  if (bytes.size() > client_->settings().part_size) return write_multipart(key, bytes, headers);
  S3Request q;
  q.operation = "PutObject";
  q.method = "PUT";
  q.key = std::string(key);
  q.body = std::string(bytes);
  q.headers = headers;
  client_->perform(q);
}

void S3Store::write_multipart(std::string_view key, std::string_view bytes, const std::vector<std::string>& headers) {
  S3Request init;
  init.operation = "CreateMultipartUpload";
  init.method = "POST";
  init.key = std::string(key);
  init.query = {{"uploads", ""}};
  std::string upload_id = s3xml::parse_upload_id(client_->perform(init).body, uri(key) + ": CreateMultipartUpload");
  auto abort = [&] {
    S3Request q;
    q.operation = "AbortMultipartUpload";
    q.method = "DELETE";
    q.key = std::string(key);
    q.query = {{"uploadId", upload_id}};
    client_->perform_all({q});  // best effort: an unfinished upload is invisible, only billed
  };
  const uint64_t part = client_->settings().part_size;
  std::vector<S3Request> parts;
  for (uint64_t off = 0; off < bytes.size(); off += part) {
    S3Request q;
    q.operation = "UploadPart " + std::to_string(parts.size() + 1);
    q.method = "PUT";
    q.key = std::string(key);
    q.query = {{"partNumber", std::to_string(parts.size() + 1)}, {"uploadId", upload_id}};
    q.body = std::string(bytes.substr(off, part));
    parts.push_back(std::move(q));
  }
  std::vector<S3Response> done = client_->perform_all(parts);
  std::vector<std::string> etags;
  for (const S3Response& r : done) {
    auto it = r.headers.find("etag");
    if (!r.ok() || it == r.headers.end()) {
      abort();
      if (!r.ok()) fail(r);
      throw util::Error(util::ErrorKind::kIo, uri(key) + ": UploadPart: no ETag in the answer");
    }
    etags.push_back(it->second);
  }
  S3Request complete;
  complete.operation = "CompleteMultipartUpload";
  complete.method = "POST";
  complete.key = std::string(key);
  complete.query = {{"uploadId", upload_id}};
  complete.headers = headers;
  complete.headers.push_back("Content-Type: application/xml");
  complete.body = s3xml::complete_request(etags);
  S3Response r = client_->perform_all({complete}).front();
  // CompleteMultipartUpload may fail inside a 200 answer.
  auto error = r.ok() ? s3xml::parse_error(r.body) : std::nullopt;
  if (!r.ok() || error) {
    abort();
    if (!r.ok()) fail(r);
    throw util::Error(util::ErrorKind::kIo,
                      uri(key) + ": CompleteMultipartUpload: " + error->code + ": " + error->message);
  }
}

void S3Store::copy(std::string_view from_key, std::string_view to_key) {
  S3Request q;
  q.operation = "CopyObject";
  q.method = "PUT";
  q.key = std::string(to_key);
  std::string source = uri(from_key);
  source = source.substr(source.find("://") + 3);  // "bucket/key"
  q.headers.push_back("x-amz-copy-source: " + s3_encode(source, true));
  S3Response r = client_->perform(q);
  if (auto error = s3xml::parse_error(r.body)) {
    throw util::Error(util::ErrorKind::kIo,
                      uri(to_key) + ": CopyObject from " + uri(from_key) + ": " + error->code + ": " + error->message);
  }
}

void S3Store::download(std::span<const std::string> keys, std::span<const std::string> files) {
  std::vector<S3Request> gets;
  for (size_t i = 0; i < keys.size() && i < files.size(); ++i) {
    S3Request q;
    q.operation = "GetObject";
    q.key = keys[i];
    q.download_to = files[i];
    gets.push_back(std::move(q));
  }
  for (const S3Response& r : client_->perform_all(gets)) {
    if (!r.ok()) fail(r);
  }
}

void S3Store::upload(std::span<const std::string> files, std::span<const std::string> keys) {
  // Small files go in parallel batches bounded in bytes (their bodies are in memory); a file
  // above the part size is a multipart upload of its own, its parts in parallel.
  constexpr uint64_t kBatchBytes = uint64_t{256} << 20;
  std::vector<S3Request> batch;
  uint64_t batch_bytes = 0;
  auto flush = [&] {
    for (const S3Response& r : client_->perform_all(batch)) {
      if (!r.ok()) fail(r);
    }
    batch.clear();
    batch_bytes = 0;
  };
  for (size_t i = 0; i < keys.size() && i < files.size(); ++i) {
    std::string bytes = io::read_file_bytes(files[i]);
    if (bytes.size() > client_->settings().part_size) {
      write_atomic(keys[i], bytes, true);
      continue;
    }
    S3Request q;
    q.operation = "PutObject";
    q.method = "PUT";
    q.key = keys[i];
    batch_bytes += bytes.size();
    q.body = std::move(bytes);
    batch.push_back(std::move(q));
    if (batch_bytes >= kBatchBytes) flush();
  }
  flush();
}

std::vector<DeleteFailure> S3Store::remove(std::span<const std::string> keys) {
  std::vector<S3Request> batches;
  for (size_t i = 0; i < keys.size(); i += kDeleteBatch) {
    S3Request q;
    q.operation = "DeleteObjects";
    q.subject = keys[i];  // the batch's first key
    q.method = "POST";
    q.query = {{"delete", ""}};
    q.body = s3xml::delete_request(keys.subspan(i, std::min(kDeleteBatch, keys.size() - i)));
    q.headers = {"Content-Type: application/xml", "Content-MD5: " + md5_base64(q.body)};
    batches.push_back(std::move(q));
  }
  std::vector<S3Response> done = client_->perform_all(batches);
  std::vector<DeleteFailure> failed;
  for (size_t b = 0; b < done.size(); ++b) {
    auto batch = keys.subspan(b * kDeleteBatch, std::min(kDeleteBatch, keys.size() - b * kDeleteBatch));
    if (!done[b].ok()) {
      for (const std::string& k : batch) failed.push_back({k, done[b].error});
      continue;
    }
    try {
      for (auto& f : s3xml::parse_delete_result(done[b].body, uri("") + ": DeleteObjects")) failed.push_back(f);
    } catch (const util::Error& e) {
      // An answer that cannot be read says nothing about what was deleted: report every key.
      for (const std::string& k : batch) failed.push_back({k, e.what()});
    }
  }
  return failed;
}

}  // namespace ckpt::storage
