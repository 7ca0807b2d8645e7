#include "pipeline/source_splits.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "flink/key_groups.h"
#include "io/byte_reader.h"
#include "io/byte_writer.h"
#include "pipeline/state_format.h"
#include "util/error.h"
#include "util/hash.h"

namespace ckpt::pipeline {
namespace fs = std::filesystem;

namespace {

using util::splitmix64;

// Pronounceable, distinct words: the id written in base 20 with a syllable per digit.
std::string word_of(int64_t id) {
  static constexpr const char* kSyl[20] = {"ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "vu", "ze",
                                           "ba", "de", "fo", "gi", "hu", "jo", "ke", "la", "mo", "ni"};
  std::string w;
  do {
    w += kSyl[id % 20];
    id /= 20;
  } while (id > 0);
  return w;
}

int32_t kg_of(const std::string& w, int32_t max_parallelism) {
  return flink::key_group_for_hash(flink::java_hash_string(w), max_parallelism);
}

class GeneratorSplitReader final : public SplitReader {
 public:
  GeneratorSplitReader(Split s, const Generator* gen, int32_t index, int32_t count)
      : split_(std::move(s)), gen_(gen), index_(index), count_(count) {}
  bool read(std::vector<Record>& out, std::size_t max) override {
    std::size_t n = 0;
    while (n < max) {
      int64_t i = index_ + split_.position * count_;
      if (i >= gen_->total()) break;
      out.emplace_back();
      gen_->record(i, out.back());
      ++split_.position;
      ++n;
    }
    return n > 0;
  }
  Split position() const override { return split_; }

 private:
  Split split_;
  const Generator* gen_;
  int32_t index_, count_;
};

class FileSplitReader final : public SplitReader {
 public:
  FileSplitReader(Split s, const fs::path& path, bool jsonl, int32_t max_parallelism)
      : split_(std::move(s)), path_(path), jsonl_(jsonl), max_parallelism_(max_parallelism) {
    f_ = std::fopen(path.c_str(), "rb");
    if (!f_) throw util::Error(util::ErrorKind::kInput, fmt::format("{}: cannot open input file", path.string()));
    if (std::fseek(f_, static_cast<long>(split_.position), SEEK_SET) != 0) {
      std::fclose(f_);
      throw util::Error(util::ErrorKind::kInput, fmt::format("{}: cannot seek to {}", path.string(), split_.position));
    }
  }
  ~FileSplitReader() override {
    if (f_) std::fclose(f_);
    std::free(line_);
  }
  FileSplitReader(const FileSplitReader&) = delete;
  FileSplitReader& operator=(const FileSplitReader&) = delete;

  bool read(std::vector<Record>& out, std::size_t max) override {
    std::size_t before = out.size();
    while (out.size() - before < max) {
      ssize_t n = ::getline(&line_, &cap_, f_);
      if (n < 0) break;
      std::string_view line(line_, static_cast<std::size_t>(n));
      split_.position += n;
      int64_t ts = split_.line++;
      if (jsonl_) parse_json_line(line, ts, out);
      else parse_text_line(line, ts, out);
    }
    return out.size() > before || !std::feof(f_);
  }
  Split position() const override { return split_; }

 private:
  void emit(std::string_view word, int64_t ts, std::vector<Record>& out) {
    Record r;
    r.word.assign(word);
    r.timestamp = ts;
    r.key_group = kg_of(r.word, max_parallelism_);
    out.push_back(std::move(r));
  }
  void parse_text_line(std::string_view line, int64_t ts, std::vector<Record>& out) {
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      std::size_t start = i;
      while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      if (i > start) emit(line.substr(start, i - start), ts, out);
    }
  }
  // A deliberately small JSON reader: top-level "word": "<string>" and "ts": <integer>.
  void parse_json_line(std::string_view line, int64_t ts, std::vector<Record>& out) {
    auto field = [&](std::string_view name) -> std::size_t {
      std::string pat = fmt::format("\"{}\"", name);
      std::size_t p = line.find(pat);
      if (p == std::string_view::npos) return p;
      p = line.find(':', p + pat.size());
      if (p == std::string_view::npos) return p;
      ++p;
      while (p < line.size() && std::isspace(static_cast<unsigned char>(line[p]))) ++p;
      return p;
    };
    std::size_t w = field("word");
    if (w == std::string_view::npos || w >= line.size() || line[w] != '"') {
      bool blank = line.find_first_not_of(" \t\r\n") == std::string_view::npos;
      if (blank) return;
      throw util::Error(
          util::ErrorKind::kInput,
          fmt::format("{}: line {}: expected a JSON object with \"word\": \"...\"", path_.string(), split_.line));
    }
    std::string word;
    for (std::size_t i = w + 1; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) ++i;
      word.push_back(line[i]);
    }
    std::size_t t = field("ts");
    if (t != std::string_view::npos) {
      std::size_t end = t;
      if (end < line.size() && line[end] == '-') ++end;
      while (end < line.size() && std::isdigit(static_cast<unsigned char>(line[end]))) ++end;
      if (end == t) {
        throw util::Error(util::ErrorKind::kInput,
                          fmt::format("{}: line {}: \"ts\" is not an integer", path_.string(), split_.line));
      }
      ts = std::stoll(std::string(line.substr(t, end - t)));
    }
    emit(word, ts, out);
  }

  Split split_;
  fs::path path_;
  bool jsonl_;
  int32_t max_parallelism_;
  std::FILE* f_ = nullptr;
  char* line_ = nullptr;
  std::size_t cap_ = 0;
};

}  // namespace

std::string serialize_split(const Split& s) {
  std::string out;
  write_java_string(out, s.id);
  io::ByteWriter w(out);
  w.i64(s.position);
  w.i64(s.line);
  return out;
}

Split deserialize_split(std::string_view bytes) {
  io::ByteReader r(bytes);
  Split s;
  s.id = read_java_string(r);
  s.position = r.i64("split position");
  s.line = r.i64("split line");
  return s;
}

std::vector<Split> initial_splits(const JobParams& p) {
  std::vector<Split> out;
  if (p.generate > 0) {
    for (int32_t j = 0; j < p.generator_splits; ++j)
      out.push_back({fmt::format("generator-{}-of-{}", j, p.generator_splits), 0, 0});
    return out;
  }
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(p.input_dir, ec)) {
    if (!e.is_regular_file()) continue;
    std::string ext = e.path().extension().string();
    if (ext == ".txt" || ext == ".jsonl") names.push_back(e.path().filename().string());
  }
  if (ec)
    throw util::Error(util::ErrorKind::kInput,
                      fmt::format("{}: cannot list input directory: {}", p.input_dir, ec.message()));
  std::sort(names.begin(), names.end());
  for (auto& n : names) out.push_back({n, 0, 0});
  return out;
}

Generator::Generator(const JobParams& p, int32_t max_parallelism)
    : seed_(p.seed),
      total_(p.generate),
      events_per_second_(std::max<int64_t>(1, p.events_per_second)),
      max_disorder_(std::max<int64_t>(0, p.max_disorder_ms)) {
  int64_t v = std::max<int64_t>(1, p.vocabulary);
  words_.reserve(static_cast<std::size_t>(v));
  key_groups_.reserve(static_cast<std::size_t>(v));
  for (int64_t i = 0; i < v; ++i) {
    words_.push_back(word_of(i));
    key_groups_.push_back(kg_of(words_.back(), max_parallelism));
  }
  if (p.zipf_exponent > 0) {
    cdf_.resize(static_cast<std::size_t>(v));
    double sum = 0;
    for (int64_t i = 0; i < v; ++i) {
      sum += 1.0 / std::pow(static_cast<double>(i + 1), p.zipf_exponent);
      cdf_[static_cast<std::size_t>(i)] = sum;
    }
    for (double& c : cdf_) c /= sum;
  }
}

void Generator::record(int64_t i, Record& out) const {
  uint64_t h1 = splitmix64(seed_ ^ splitmix64(static_cast<uint64_t>(i)));
  uint64_t h2 = splitmix64(h1);
  std::size_t w;
  if (cdf_.empty()) {
    w = static_cast<std::size_t>(h1 % words_.size());
  } else {
    double u = static_cast<double>(h1 >> 11) * (1.0 / 9007199254740992.0);
    w = static_cast<std::size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
    if (w >= words_.size()) w = words_.size() - 1;
  }
  out.word = words_[w];
  out.key_group = key_groups_[w];
  int64_t jitter = max_disorder_ > 0 ? static_cast<int64_t>(h2 % static_cast<uint64_t>(max_disorder_ + 1)) : 0;
  out.timestamp = i * 1000 / events_per_second_ - jitter;
}

std::unique_ptr<SplitReader> open_split(const Split& s, const JobParams& p, const Generator* gen,
                                        int32_t max_parallelism) {
  if (gen) {
    int32_t j = 0, count = 0;
    if (std::sscanf(s.id.c_str(), "generator-%d-of-%d", &j, &count) != 2 || count <= 0 || j < 0 || j >= count) {
      throw util::Error(util::ErrorKind::kInput, fmt::format("split '{}' is not a generator split", s.id));
    }
    return std::make_unique<GeneratorSplitReader>(s, gen, j, count);
  }
  fs::path path = fs::path(p.input_dir) / s.id;
  return std::make_unique<FileSplitReader>(s, path, path.extension() == ".jsonl", max_parallelism);
}

}  // namespace ckpt::pipeline
