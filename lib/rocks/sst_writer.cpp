#include "rocks/sst_writer.h"

#include <rocksdb/comparator.h>
#include <rocksdb/convenience.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "util/error.h"

namespace ckpt::rocks {

struct SstWriter::Impl {
  rocksdb::Options options;
  std::unique_ptr<rocksdb::SstFileWriter> writer;
};

namespace {
void check(const rocksdb::Status& s, const char* what) {
  if (!s.ok()) throw util::Error(util::ErrorKind::kIo, std::string(what) + ": " + s.ToString());
}
}  // namespace

SstWriter::SstWriter(const std::filesystem::path& path, const SstWriterOptions& o) : impl_(std::make_unique<Impl>()) {
  auto& opt = impl_->options;
  rocksdb::BlockBasedTableOptions t;
  t.block_size = o.block_size;
  opt.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  opt.compression = rocksdb::kNoCompression;
  if (o.compress) {
    auto supported = rocksdb::GetSupportedCompressions();
    for (auto c : {rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
      if (std::find(supported.begin(), supported.end(), c) != supported.end()) {
        opt.compression = c;
        break;
      }
    }
  }
  if (o.reverse_comparator) opt.comparator = rocksdb::ReverseBytewiseComparator();
  impl_->writer = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(), opt);
  check(impl_->writer->Open(path.string()), "open SST for writing");
}

SstWriter::~SstWriter() = default;

void SstWriter::put(std::string_view key, std::string_view value) {
  check(impl_->writer->Put(rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size())), "put");
}

void SstWriter::delete_range(std::string_view begin, std::string_view end) {
  check(impl_->writer->DeleteRange(rocksdb::Slice(begin.data(), begin.size()), rocksdb::Slice(end.data(), end.size())),
        "delete range");
}

uint64_t SstWriter::finish() {
  rocksdb::ExternalSstFileInfo info;
  check(impl_->writer->Finish(&info), "finish SST");
  return info.file_size;
}

}  // namespace ckpt::rocks
