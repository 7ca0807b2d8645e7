#include "storage/open_store.h"

#include "storage/local_store.h"
#include "storage/s3_settings.h"
#include "storage/s3_store.h"
#include "util/error.h"

namespace ckpt::storage {

OpenedStore open_store(std::string_view user_path, const std::map<std::string, std::string>& config) {
  std::string problem;
  auto uri = parse_object_uri(user_path, &problem);
  if (!problem.empty()) throw util::Error(util::ErrorKind::kUsage, std::string(user_path) + ": " + problem);
  OpenedStore out;
  if (!uri) {
    out.store = std::make_unique<LocalStore>();
    out.key = std::string(user_path);
    return out;
  }
  S3Settings settings = resolve_s3_settings(uri->scheme, config);
  out.cache = resolve_object_cache(config, settings.endpoint + " " + settings.region + " " + uri->bucket);
  out.store = std::make_unique<S3Store>(std::make_unique<S3Client>(std::move(settings), uri->scheme, uri->bucket));
  out.key = uri->key;
  out.uri = std::move(uri);
  return out;
}

}  // namespace ckpt::storage
