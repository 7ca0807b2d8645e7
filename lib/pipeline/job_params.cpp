#include "pipeline/job_params.h"

#include <fmt/format.h>

#include <array>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "util/error.h"
#include "util/lines.h"

namespace ckpt::pipeline {

namespace {

// One line of the payload: its key and how it reads and writes its JobParams member.
struct Field {
  std::string_view key;
  std::string (*encode)(const JobParams&);
  void (*decode)(JobParams&, const std::string&);  // throws std::logic_error on a bad value
};

template <auto Member>
constexpr Field field(std::string_view key) {
  return Field{key, [](const JobParams& p) { return fmt::format("{}", p.*Member); },
               [](JobParams& p, const std::string& v) {
                 using T = std::remove_reference_t<decltype(p.*Member)>;
                 if constexpr (std::is_same_v<T, std::string>) p.*Member = v;
                 else if constexpr (std::is_same_v<T, double>) p.*Member = std::stod(v);
                 else if constexpr (std::is_same_v<T, uint64_t>) p.*Member = std::stoull(v);
                 else if constexpr (std::is_same_v<T, int32_t>) p.*Member = std::stoi(v);
                 else p.*Member = std::stoll(v);
               }};
}

// The order is the payload's order; keys never change meaning (snapshots keep them).
constexpr std::array kFields{
    field<&JobParams::input_dir>("input"),
    field<&JobParams::generate>("generate"),
    field<&JobParams::seed>("seed"),
    field<&JobParams::generator_splits>("generator-splits"),
    field<&JobParams::vocabulary>("vocabulary"),
    field<&JobParams::zipf_exponent>("zipf"),
    field<&JobParams::events_per_second>("events-per-second"),
    field<&JobParams::max_disorder_ms>("max-disorder-ms"),
    field<&JobParams::rate_limit>("rate"),
    field<&JobParams::out_of_orderness_ms>("out-of-orderness-ms"),
    field<&JobParams::window_ms>("window-ms"),
    field<&JobParams::allowed_lateness_ms>("allowed-lateness-ms"),
    field<&JobParams::output_dir>("output"),
};

}  // namespace

std::string encode_job_params(const JobParams& p) {
  std::string out;
  for (const Field& f : kFields) out += fmt::format("{}={}\n", f.key, f.encode(p));
  return out;
}

JobParams decode_job_params(std::string_view payload) {
  JobParams p;
  util::for_each_line(payload, [&](std::string_view line, int line_no) {
    if (line.empty()) return;
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos)
      throw util::Error(util::ErrorKind::kInput, fmt::format("job parameters line {}: no '='", line_no));
    std::string_view key = line.substr(0, eq);
    std::string v(line.substr(eq + 1));
    for (const Field& f : kFields) {
      if (f.key != key) continue;
      try {
        f.decode(p, v);
      } catch (const std::logic_error&) {
        throw util::Error(util::ErrorKind::kInput,
                          fmt::format("job parameters line {}: bad value for {}: '{}'", line_no, key, v));
      }
    }
    // Unknown keys come from newer versions: ignored.
  });
  return p;
}

}  // namespace ckpt::pipeline
