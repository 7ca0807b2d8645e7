#include "storage/object_uri.h"

#include <algorithm>
#include <cctype>

namespace ckpt::storage {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// s3, s3a and s3p are three clients of one store (Flink's Hadoop and Presto plugins).
std::string store_of(std::string_view scheme) {
  std::string s = lower(scheme);
  return s == "gs" ? "gs" : "s3";
}

}  // namespace

std::string ObjectUri::str() const { return scheme + "://" + bucket + "/" + key; }

bool is_object_store_scheme(std::string_view scheme) {
  std::string s = lower(scheme);
  return s == "s3" || s == "s3a" || s == "s3p" || s == "gs";
}

std::optional<ObjectUri> parse_object_uri(std::string_view uri, std::string* problem) {
  size_t colon = uri.find("://");
  if (colon == std::string_view::npos || !is_object_store_scheme(uri.substr(0, colon))) return std::nullopt;
  ObjectUri out;
  out.scheme = std::string(uri.substr(0, colon));
  std::string_view rest = uri.substr(colon + 3);
  size_t slash = rest.find('/');
  out.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) out.key = std::string(rest.substr(slash + 1));
  // Flink's Path collapses repeated separators; so do keys written through it.
  std::string key;
  for (char c : out.key) {
    if (c == '/' && !key.empty() && key.back() == '/') continue;
    key += c;
  }
  while (!key.empty() && key.front() == '/') key.erase(0, 1);
  out.key = std::move(key);
  if (out.bucket.empty()) {
    if (problem) *problem = "expected " + out.scheme + "://BUCKET/PREFIX: no bucket name";
    return std::nullopt;
  }
  return out;
}

bool same_bucket(const ObjectUri& a, const ObjectUri& b) {
  return store_of(a.scheme) == store_of(b.scheme) && a.bucket == b.bucket;
}

}  // namespace ckpt::storage
