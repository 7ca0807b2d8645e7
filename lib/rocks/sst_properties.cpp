#include "rocks/sst_properties.h"

#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table_properties.h>

#include <memory>

namespace ckpt::rocks {

namespace {

SstProperties read_with(const rocksdb::Options& options, const std::string& path) {
  SstProperties p;
  rocksdb::SstFileReader reader(options);
  rocksdb::Status s = reader.Open(path);
  if (!s.ok()) {
    p.error = s.ToString();
    return p;
  }
  std::shared_ptr<const rocksdb::TableProperties> props = reader.GetTableProperties();
  if (!props) {
    p.error = "no table properties";
    return p;
  }
  p.column_family = props->column_family_name;
  p.entries = props->num_entries;
  p.deletions = props->num_deletions;
  p.merge_operands = props->num_merge_operands;
  p.raw_key_bytes = props->raw_key_size;
  p.raw_value_bytes = props->raw_value_size;
  return p;
}

}  // namespace

std::optional<std::string> with_in_memory_file(
    std::string_view bytes, const std::function<void(const rocksdb::Options&, const std::string&)>& fn) {
  std::unique_ptr<rocksdb::Env> env(rocksdb::NewMemEnv(rocksdb::Env::Default()));
  const std::string path = "/inline.sst";
  std::unique_ptr<rocksdb::WritableFile> f;
  rocksdb::Status s = env->NewWritableFile(path, &f, rocksdb::EnvOptions());
  if (s.ok()) s = f->Append(rocksdb::Slice(bytes.data(), bytes.size()));
  if (s.ok()) s = f->Close();
  if (!s.ok()) return s.ToString();
  rocksdb::Options options;
  options.env = env.get();
  fn(options, path);
  return std::nullopt;
}

SstProperties sst_properties(const std::filesystem::path& path) {
  SstProperties p = read_with(rocksdb::Options(), path.string());
  std::error_code ec;
  p.file_bytes = std::filesystem::file_size(path, ec);
  return p;
}

SstProperties sst_properties_bytes(std::string_view bytes) {
  SstProperties p;
  auto error =
      with_in_memory_file(bytes, [&](const rocksdb::Options& o, const std::string& path) { p = read_with(o, path); });
  if (error) p.error = *error;
  p.file_bytes = bytes.size();
  return p;
}

}  // namespace ckpt::rocks
