// The S3 client's bare operations, timed, as the baselines of the s3 section of run.sh:
//   bench_s3 list URI          one full paged listing (ListObjectsV2), objects and seconds
//   bench_s3 list-read URI NAME  the listing, then a GET of every object whose name is NAME
//                          (`_metadata`): the server work any plan of the root must do
//   bench_s3 keys URI          every key below URI, relative to it, one a line (untimed)
//   bench_s3 put-dir DIR URI   uploads every file below DIR (bounded parallel PUTs)
// Credentials and endpoint come from the environment, as for ckpt itself.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "io/file_bytes.h"
#include "storage/open_store.h"
#include "storage/s3_store.h"

namespace fs = std::filesystem;
using namespace ckpt;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int list(const std::string& uri) {
  auto opened = storage::open_store(uri);
  auto t0 = std::chrono::steady_clock::now();
  uint64_t objects = 0, bytes = 0;
  std::string prefix = opened.key.empty() || opened.key.back() == '/' ? opened.key : opened.key + "/";
  opened.store->list(prefix, [&](std::span<const storage::ObjectInfo> page) {
    for (const auto& o : page) {
      ++objects;
      bytes += o.size;
    }
  });
  std::printf("%llu objects, %llu bytes listed in %.3f s\n", static_cast<unsigned long long>(objects),
              static_cast<unsigned long long>(bytes), seconds_since(t0));
  return 0;
}

int list_read(const std::string& uri, const std::string& name) {
  auto opened = storage::open_store(uri);
  auto t0 = std::chrono::steady_clock::now();
  std::string prefix = opened.key.empty() || opened.key.back() == '/' ? opened.key : opened.key + "/";
  std::vector<std::string> named;
  uint64_t objects = 0, bytes = 0;
  opened.store->list(prefix, [&](std::span<const storage::ObjectInfo> page) {
    objects += page.size();
    for (const auto& o : page) {
      if (o.key.ends_with("/" + name)) named.push_back(o.key);
    }
  });
  for (const auto& [key, body] : storage::prefetch(*opened.store, named, uint64_t{1} << 30)) bytes += body.size();
  std::printf("%llu objects listed, %zu named %s read (%llu bytes) in %.3f s\n",
              static_cast<unsigned long long>(objects), named.size(), name.c_str(),
              static_cast<unsigned long long>(bytes), seconds_since(t0));
  return 0;
}

int keys(const std::string& uri) {
  auto opened = storage::open_store(uri);
  std::string prefix = opened.key.empty() || opened.key.back() == '/' ? opened.key : opened.key + "/";
  opened.store->list(prefix, [&](std::span<const storage::ObjectInfo> page) {
    for (const auto& o : page) std::printf("%s\n", o.key.c_str() + prefix.size());
  });
  return 0;
}

int put_dir(const fs::path& dir, const std::string& uri) {
  auto opened = storage::open_store(uri);
  auto* s3 = dynamic_cast<storage::S3Store*>(opened.store.get());
  if (!s3) {
    std::fprintf(stderr, "bench_s3: %s is not an object store URI\n", uri.c_str());
    return 2;
  }
  std::vector<storage::S3Request> batch;
  auto t0 = std::chrono::steady_clock::now();
  uint64_t files = 0;
  auto flush = [&] {
    for (const auto& r : s3->client().perform_all(batch)) {
      if (!r.ok()) throw util::Error(r.kind, r.error);
    }
    batch.clear();
  };
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    storage::S3Request q;
    q.operation = "PutObject";
    q.method = "PUT";
    q.key = (opened.key.empty() ? "" : opened.key + "/") + e.path().lexically_relative(dir).string();
    q.body = io::read_file_bytes(e.path());
    batch.push_back(std::move(q));
    ++files;
    if (batch.size() == 256) flush();
  }
  flush();
  std::printf("%llu files uploaded in %.3f s\n", static_cast<unsigned long long>(files), seconds_since(t0));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 3 && std::string(argv[1]) == "list") return list(argv[2]);
    if (argc == 4 && std::string(argv[1]) == "put-dir") return put_dir(argv[2], argv[3]);
    if (argc == 4 && std::string(argv[1]) == "list-read") return list_read(argv[2], argv[3]);
    if (argc == 3 && std::string(argv[1]) == "keys") return keys(argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_s3: %s\n", e.what());
    return 2;
  }
  std::fprintf(stderr, "usage: bench_s3 list URI | list-read URI NAME | keys URI | put-dir DIR URI\n");
  return 2;
}
