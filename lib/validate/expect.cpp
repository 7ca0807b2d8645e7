#include "validate/expect.h"

#include <fmt/format.h>

#include <map>

#include "codec/json.h"
#include "flink/operator_id.h"
#include "io/decode_error.h"
#include "io/file_bytes.h"
#include "io/mutf8.h"
#include "validate.pb.h"

namespace ckpt::validate {

std::string ExpectedOperator::label() const {
  if (!uid.empty()) return "uid " + uid;
  std::string hex = id ? flink::to_hex(*id) : "?";
  return name.empty() ? hex : fmt::format("{} ({})", name, hex);
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

[[noreturn]] void fail(std::string_view label, int line, const std::string& why) {
  if (line > 0) throw ExpectError(fmt::format("{}: line {}: {}", label, line, why));
  throw ExpectError(fmt::format("{}: {}", label, why));
}

std::optional<int32_t> positive_int(std::string_view v) {
  if (v.empty() || v.size() > 9) return std::nullopt;
  int32_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n < 1) return std::nullopt;
  return n;
}

// A scalar: "double quoted" (with \" and \\), 'single quoted' ('' for '), or plain up to " #".
std::string scalar(std::string_view v, std::string_view label, int line) {
  v = trim(v);
  if (v.empty()) return {};
  if (v.front() == '"') {
    std::string out;
    std::size_t i = 1;
    for (; i < v.size() && v[i] != '"'; ++i) {
      if (v[i] == '\\' && i + 1 < v.size()) ++i;
      out += v[i];
    }
    if (i >= v.size()) fail(label, line, "unterminated double-quoted string");
    std::string_view rest = trim(v.substr(i + 1));
    if (!rest.empty() && rest.front() != '#') fail(label, line, "text after a quoted string");
    return out;
  }
  if (v.front() == '\'') {
    std::string out;
    std::size_t i = 1;
    for (; i < v.size(); ++i) {
      if (v[i] == '\'') {
        if (i + 1 < v.size() && v[i + 1] == '\'') {
          out += '\'';
          ++i;
          continue;
        }
        break;
      }
      out += v[i];
    }
    if (i >= v.size()) fail(label, line, "unterminated single-quoted string");
    std::string_view rest = trim(v.substr(i + 1));
    if (!rest.empty() && rest.front() != '#') fail(label, line, "text after a quoted string");
    return out;
  }
  if (auto c = v.find(" #"); c != std::string_view::npos) v = trim(v.substr(0, c));
  return std::string(v);
}

void set_field(ExpectedOperator& op, std::string_view key, const std::string& value, std::string_view label, int line) {
  if (key == "uid") {
    op.uid = value;
  } else if (key == "id") {
    auto id = flink::parse_operator_id(value);
    if (!id) fail(label, line, fmt::format("id \"{}\": expected 32 hex characters", value));
    op.id = id;
  } else if (key == "name") {
    op.name = value;
  } else if (key == "parallelism" || key == "maxParallelism" || key == "max_parallelism" || key == "max-parallelism") {
    auto n = positive_int(value);
    if (!n) fail(label, line, fmt::format("{} \"{}\": expected a positive integer", key, value));
    (key == "parallelism" ? op.parallelism : op.max_parallelism) = n;
  } else {
    fail(label, line, fmt::format("unknown key \"{}\" (expected uid, id, name, parallelism, maxParallelism)", key));
  }
}

void finish(Expectation& e, std::string_view label) {
  for (std::size_t i = 0; i < e.operators.size(); ++i) {
    if (e.operators[i].uid.empty() && !e.operators[i].id) {
      fail(label, 0, fmt::format("operator #{} has neither uid nor id", i + 1));
    }
  }
}

Expectation parse_yaml(std::string_view text, std::string_view label) {
  Expectation e;
  e.source = std::string(label);
  int line_no = 0;
  std::size_t pos = 0;
  bool in_item = false;
  std::size_t item_indent = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    std::string_view body = trim(line);
    if (body.empty() || body.front() == '#' || body == "---") continue;
    std::size_t indent = line.find_first_not_of(" \t");
    if (line.substr(0, indent).find('\t') != std::string_view::npos)
      fail(label, line_no, "tabs are not allowed in YAML indentation");
    if (body == "operators:" && e.operators.empty() && !in_item) continue;
    if (body == "[]" || body == "operators: []") continue;
    if (body.front() == '-') {
      body = trim(body.substr(1));
      e.operators.emplace_back();
      in_item = true;
      item_indent = indent;
      if (body.empty()) continue;
    } else if (!in_item || indent <= item_indent) {
      fail(label, line_no, "expected a list item (\"- uid: ...\")");
    }
    auto colon = body.find(':');
    if (colon == std::string_view::npos) fail(label, line_no, "expected key: value");
    std::string_view key = trim(body.substr(0, colon));
    std::string value = scalar(body.substr(colon + 1), label, line_no);
    set_field(e.operators.back(), key, value, label, line_no);
  }
  finish(e, label);
  return e;
}

Expectation parse_json(std::string_view text, std::string_view label) {
  std::string doc(text);
  std::size_t first = doc.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && doc[first] == '[') doc = "{\"operators\":" + doc + "}";
  ExpectedJob job;
  try {
    json::from_json(doc, job);
  } catch (const json::JsonError& err) {
    fail(label, 0, err.what());
  }
  Expectation e;
  e.source = std::string(label);
  int i = 0;
  for (const auto& o : job.operators()) {
    ++i;
    ExpectedOperator op;
    op.uid = o.uid();
    op.name = o.name();
    if (!o.id().empty()) set_field(op, "id", o.id(), label, 0);
    if (o.has_parallelism()) {
      if (o.parallelism() < 1) fail(label, 0, fmt::format("operator #{}: parallelism must be >= 1", i));
      op.parallelism = o.parallelism();
    }
    if (o.has_max_parallelism()) {
      if (o.max_parallelism() < 1) fail(label, 0, fmt::format("operator #{}: maxParallelism must be >= 1", i));
      op.max_parallelism = o.max_parallelism();
    }
    e.operators.push_back(std::move(op));
  }
  finish(e, label);
  return e;
}

bool matches(const ExpectedOperator& x, const flink::OperatorState& op) {
  if (x.id && *x.id == op.id) return true;
  if (x.uid.empty()) return false;
  if (flink::operator_id_from_uid(x.uid) == op.id) return true;
  return !op.uid.empty() && io::mutf8_to_utf8(op.uid) == x.uid;
}

bool subtask_has_state(const flink::SubtaskState& s) {
  if (s.finished) return false;
  if (!s.managed_operator.is_null() || !s.raw_operator.is_null() || !s.managed_keyed.is_null() ||
      !s.raw_keyed.is_null() || !s.input_channels.empty() || !s.output_channels.empty()) {
    return true;
  }
  for (const auto& h : s.legacy_operator_states) {
    if (!h.is_null()) return true;
  }
  for (const auto& h : s.legacy_managed_chain) {
    if (!h.is_null()) return true;
  }
  for (const auto& h : s.legacy_raw_chain) {
    if (!h.is_null()) return true;
  }
  return false;
}

}  // namespace

Expectation parse_expectation(std::string_view text, std::string_view label) {
  std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (text[first] == '{' || text[first] == '[')) return parse_json(text, label);
  return parse_yaml(text, label);
}

Expectation load_expectation(const std::filesystem::path& file) {
  std::string text;
  try {
    text = io::read_file_bytes(file, 16 << 20);
  } catch (const io::IoError& e) {
    throw ExpectError(e.what());
  }
  return parse_expectation(text, file.string());
}

Expectation expectation_from(const flink::Metadata& md, std::string source) {
  Expectation e;
  e.source = std::move(source);
  for (const auto& op : md.operators) {
    ExpectedOperator x;
    x.id = op.id;
    x.uid = io::mutf8_to_utf8(op.uid);
    x.name = io::mutf8_to_utf8(op.name);
    if (op.parallelism >= 1) x.parallelism = op.parallelism;
    if (op.max_parallelism >= 1) x.max_parallelism = op.max_parallelism;
    e.operators.push_back(std::move(x));
  }
  return e;
}

bool has_state(const flink::OperatorState& op) {
  if (!op.coordinator.is_null()) return true;
  for (const auto& s : op.subtasks) {
    if (subtask_has_state(s)) return true;
  }
  return false;
}

void check_expectation(const flink::Metadata& md, const Expectation& job, Findings& out) {
  // E05: one entry per operator.
  std::map<flink::OperatorId, std::size_t> by_id;
  for (std::size_t i = 0; i < job.operators.size(); ++i) {
    const auto& x = job.operators[i];
    flink::OperatorId id = x.id ? *x.id : flink::operator_id_from_uid(x.uid);
    auto [it, fresh] = by_id.try_emplace(id, i);
    if (!fresh) {
      out.add("E05", "",
              fmt::format("{} and {} name the same operator {} in {}", job.operators[it->second].label(), x.label(),
                          flink::to_hex(id), job.source));
    }
  }

  std::vector<bool> job_has_state(job.operators.size(), false);
  for (const auto& op : md.operators) {
    const bool state = has_state(op);
    const ExpectedOperator* match = nullptr;
    for (std::size_t i = 0; i < job.operators.size(); ++i) {
      if (!matches(job.operators[i], op)) continue;
      if (!match) match = &job.operators[i];
      if (state) job_has_state[i] = true;
    }
    const std::string where = operator_where(op);
    if (!match) {
      if (state) {
        Finding& f = out.add("E01", where,
                             fmt::format("has state but is not in the job: Flink refuses to restore unless "
                                         "--allowNonRestoredState (-n) drops it"));
        f.operator_id = flink::to_hex(op.id);
      }
      continue;
    }
    if (match->max_parallelism && *match->max_parallelism != op.max_parallelism) {
      Finding& f = out.add("E02", where,
                           fmt::format("snapshot max parallelism {}, job ({}) max parallelism {}: Flink refuses a "
                                       "changed max parallelism",
                                       op.max_parallelism, match->label(), *match->max_parallelism));
      f.operator_id = flink::to_hex(op.id);
    }
    int32_t effective_max = match->max_parallelism.value_or(op.max_parallelism);
    if (match->parallelism && *match->parallelism > effective_max) {
      Finding& f = out.add(
          "E03", where,
          fmt::format("job ({}) parallelism {} exceeds the max parallelism {}{}", match->label(), *match->parallelism,
                      effective_max, match->max_parallelism ? "" : " it adopts from the snapshot"));
      f.operator_id = flink::to_hex(op.id);
    }
  }
  for (std::size_t i = 0; i < job.operators.size(); ++i) {
    if (job_has_state[i]) continue;
    out.add("E04", "",
            fmt::format("job operator {} has no state in the snapshot: it starts empty", job.operators[i].label()));
  }
}

}  // namespace ckpt::validate
