#include "ops/published_output.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "io/decode_error.h"
#include "ops/convert.h"
#include "snapshot/layout.h"
#include "util/replace_all.h"

namespace ckpt::ops {
namespace fs = std::filesystem;

PublishedOutput::PublishedOutput(const std::string& uri, const std::map<std::string, std::string>& config, bool replace)
    : uri_(uri), opened_(storage::open_store(uri, config)) {
  while (!opened_.key.empty() && opened_.key.back() == '/') opened_.key.pop_back();
  if (!replace) {
    bool any = false;
    opened_.store->list(opened_.key.empty() ? "" : opened_.key + "/",
                        [&](std::span<const storage::ObjectInfo> page) { any = any || !page.empty(); });
    if (any) throw util::Error(util::ErrorKind::kUsage, uri + ": already holds objects (--force replaces them)");
  }
  tmp_ = io::TempDir("ckpt-out");
  local_ = tmp_.path() / "out";
}

PublishedOutput::~PublishedOutput() = default;

std::string PublishedOutput::name_uri(std::string_view text) const {
  return util::replace_all(text, local_.native(), uri_);
}

uint64_t PublishedOutput::publish() {
  if (fs::exists(local_ / snapshot::kMetadataFileName)) {
    std::vector<std::string> problems = check_self_contained(local_);
    if (!problems.empty()) {
      throw util::Error(util::ErrorKind::kRefused,
                        name_uri(uri_ + ": not published: its _metadata is not self-contained (" + problems.front() +
                                 (problems.size() > 1 ? fmt::format("; {} more", problems.size() - 1) : "") + ")"));
    }
  }
  std::vector<std::string> files, keys;
  std::string metadata_file, metadata_key;
  const std::string base = opened_.key.empty() ? "" : opened_.key + "/";
  for (const auto& e : fs::recursive_directory_iterator(local_)) {
    if (!e.is_regular_file() || e.is_symlink()) continue;
    std::string rel = e.path().lexically_relative(local_).generic_string();
    if (rel == snapshot::kMetadataFileName) {
      metadata_file = e.path().string();
      metadata_key = base + rel;
      continue;
    }
    files.push_back(e.path().string());
    keys.push_back(base + rel);
  }
  opened_.store->upload(files, keys);
  if (!metadata_file.empty()) {  // last: the snapshot is complete only once it exists
    std::vector<std::string> f{metadata_file}, k{metadata_key};
    opened_.store->upload(f, k);
  }
  return keys.size() + (metadata_file.empty() ? 0 : 1);
}

PublishedFile::PublishedFile(const std::string& uri, const std::map<std::string, std::string>& config, bool replace)
    : uri_(uri), opened_(storage::open_store(uri, config)) {
  if (opened_.key.empty() || opened_.key.back() == '/') {
    throw util::Error(util::ErrorKind::kUsage, uri + ": name the object to write, not a bucket or a prefix");
  }
  if (!replace && opened_.store->stat(opened_.key)) {
    throw util::Error(util::ErrorKind::kUsage, uri + ": already exists (--force replaces it)");
  }
  tmp_ = io::TempDir("ckpt-out");
  local_ = tmp_.path() / fs::path(opened_.key).filename();
}

PublishedFile::~PublishedFile() = default;

std::string PublishedFile::name_uri(std::string_view text) const {
  return util::replace_all(text, local_.native(), uri_);
}

void PublishedFile::publish() {
  std::vector<std::string> f{local_.string()}, k{opened_.key};
  opened_.store->upload(f, k);
}

}  // namespace ckpt::ops
