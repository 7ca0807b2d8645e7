#include "codec/json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <memory>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "util/error.h"
#include "util/json_text.h"

namespace ckpt::json {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr std::size_t kChunk = 64 * 1024;

class Emitter {
 public:
  Emitter(bool pretty, std::string& out, const Sink* sink) : pretty_(pretty), out_(out), sink_(sink) {}

  // The field `f` is printed from `next` instead of from the message, the first time it is met
  // (write_json with an ElementSource).
  void stream_field(const FieldDescriptor* f, const ElementSource* next) {
    streamed_ = f;
    next_ = next;
  }

  void message(const Message& m, int depth) {
    const Descriptor* d = m.GetDescriptor();
    if (d->file()->name().rfind("google/protobuf/", 0) == 0) {
      well_known(m);
      return;
    }
    const Reflection* r = m.GetReflection();
    if (fields_.size() <= static_cast<std::size_t>(depth)) fields_.resize(static_cast<std::size_t>(depth) + 1);
    std::vector<const FieldDescriptor*>& fields = fields_[static_cast<std::size_t>(depth)];
    fields.clear();
    // Every field without presence is printed, default or not (protobuf's
    // always_print_fields_with_no_presence); fields with presence (messages, `optional`, oneof
    // members) when set. In field-number order, as ListFields gives them.
    for (const FieldDescriptor* f : sorted_fields(d)) {
      if (f->is_repeated() || !f->has_presence() || r->HasField(m, f)) fields.push_back(f);
    }
    out_ += '{';
    bool first = true;
    for (const FieldDescriptor* f : fields) {
      if (!first) out_ += ',';
      first = false;
      newline(depth + 1);
      out_ += '"';
      if (f->is_extension()) {
        out_ += '[';
        out_ += f->full_name();
        out_ += ']';
      } else {
        out_ += f->json_name();
      }
      out_ += pretty_ ? "\": " : "\":";
      if (f == streamed_ && !streamed_done_) {
        streamed_done_ = true;
        streamed_array(depth + 1);
      } else if (f->is_map()) {
        map(m, r, f, depth + 1);
      } else if (f->is_repeated()) {
        array(m, r, f, depth + 1);
      } else {
        singular(m, r, f, depth + 1);
      }
    }
    if (!first) newline(depth);
    out_ += '}';
    maybe_flush();
  }

  // The fields of `d` in field-number order (descriptors list them in declaration order).
  const std::vector<const FieldDescriptor*>& sorted_fields(const Descriptor* d) {
    auto [it, added] = sorted_.try_emplace(d);
    if (added) {
      for (int i = 0; i < d->field_count(); ++i) it->second.push_back(d->field(i));
      std::sort(it->second.begin(), it->second.end(),
                [](const FieldDescriptor* a, const FieldDescriptor* b) { return a->number() < b->number(); });
    }
    return it->second;
  }

  void flush() {
    if (sink_ && !out_.empty()) {
      (*sink_)(out_);
      out_.clear();
    }
  }

 private:
  void maybe_flush() {
    if (sink_ && out_.size() >= kChunk) flush();
  }

  void newline(int depth) {
    if (!pretty_) return;
    out_ += '\n';
    out_.append(static_cast<std::size_t>(depth) * 2, ' ');
  }

  void well_known(const Message& m) {
    std::string s;
    auto st = google::protobuf::util::MessageToJsonString(m, &s);
    if (!st.ok()) throw JsonError("cannot print " + m.GetDescriptor()->full_name() + ": " + std::string(st.message()));
    out_ += s;
  }

  template <typename T>
  void number(T v) {
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, static_cast<std::size_t>(res.ptr - buf));
  }

  template <typename T>
  void quoted_number(T v) {
    out_ += '"';
    number(v);
    out_ += '"';
  }

  template <typename T>
  void floating(T v) {
    if (std::isnan(v)) {
      out_ += "\"NaN\"";
    } else if (std::isinf(v)) {
      out_ += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    } else {
      number(v);
    }
  }

  void enum_value(const FieldDescriptor* f, int v) {
    const auto* e = f->enum_type();
    if (e->full_name() == "google.protobuf.NullValue") {
      out_ += "null";
      return;
    }
    if (const auto* ev = e->FindValueByNumber(v)) {
      out_ += '"';
      out_ += ev->name();
      out_ += '"';
    } else {
      number(v);
    }
  }

  void string_value(const FieldDescriptor* f, const std::string& s) {
    if (f->type() == FieldDescriptor::TYPE_BYTES) {
      base64(s);
    } else {
      escape(s);
    }
  }

  void singular(const Message& m, const Reflection* r, const FieldDescriptor* f, int depth) {
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        number(r->GetInt32(m, f));
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        number(r->GetInt64(m, f));
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        number(r->GetUInt32(m, f));
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        number(r->GetUInt64(m, f));
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        floating(r->GetDouble(m, f));
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        floating(r->GetFloat(m, f));
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        out_ += r->GetBool(m, f) ? "true" : "false";
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        enum_value(f, r->GetEnumValue(m, f));
        break;
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        string_value(f, r->GetStringReference(m, f, &scratch));
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        message(r->GetMessage(m, f), depth);
        break;
    }
  }

  void element(const Message& m, const Reflection* r, const FieldDescriptor* f, int i, int depth) {
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        number(r->GetRepeatedInt32(m, f, i));
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        number(r->GetRepeatedInt64(m, f, i));
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        number(r->GetRepeatedUInt32(m, f, i));
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        number(r->GetRepeatedUInt64(m, f, i));
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        floating(r->GetRepeatedDouble(m, f, i));
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        floating(r->GetRepeatedFloat(m, f, i));
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        out_ += r->GetRepeatedBool(m, f, i) ? "true" : "false";
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        enum_value(f, r->GetRepeatedEnumValue(m, f, i));
        break;
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        string_value(f, r->GetRepeatedStringReference(m, f, i, &scratch));
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        message(r->GetRepeatedMessage(m, f, i), depth);
        break;
    }
  }

  void array(const Message& m, const Reflection* r, const FieldDescriptor* f, int depth) {
    const int n = r->FieldSize(m, f);
    const bool nested = f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    out_ += '[';
    for (int i = 0; i < n; ++i) {
      if (i > 0) out_ += ',';
      if (nested) {
        newline(depth + 1);
      } else if (pretty_ && i > 0) {
        out_ += ' ';
      }
      element(m, r, f, i, depth + 1);
      if (nested) maybe_flush();
    }
    if (nested && n > 0) newline(depth);
    out_ += ']';
  }

  // array() of the message field streamed_, whose elements come from next_ (the first time the
  // field is met; it is empty in the message).
  void streamed_array(int depth) {
    std::unique_ptr<Message> element(
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(streamed_->message_type())->New());
    out_ += '[';
    bool first = true;
    while ((*next_)(*element)) {
      if (!first) out_ += ',';
      first = false;
      newline(depth + 1);
      message(*element, depth + 1);
      maybe_flush();
      element->Clear();
    }
    if (!first) newline(depth);
    out_ += ']';
  }

  void map(const Message& m, const Reflection* r, const FieldDescriptor* f, int depth) {
    const int n = r->FieldSize(m, f);
    const FieldDescriptor* key = f->message_type()->map_key();
    const FieldDescriptor* value = f->message_type()->map_value();
    out_ += '{';
    for (int i = 0; i < n; ++i) {
      const Message& entry = r->GetRepeatedMessage(m, f, i);
      const Reflection* er = entry.GetReflection();
      if (i > 0) out_ += ',';
      newline(depth + 1);
      switch (key->cpp_type()) {
        case FieldDescriptor::CPPTYPE_INT32:
          quoted_number(er->GetInt32(entry, key));
          break;
        case FieldDescriptor::CPPTYPE_INT64:
          quoted_number(er->GetInt64(entry, key));
          break;
        case FieldDescriptor::CPPTYPE_UINT32:
          quoted_number(er->GetUInt32(entry, key));
          break;
        case FieldDescriptor::CPPTYPE_UINT64:
          quoted_number(er->GetUInt64(entry, key));
          break;
        case FieldDescriptor::CPPTYPE_BOOL:
          out_ += er->GetBool(entry, key) ? "\"true\"" : "\"false\"";
          break;
        default: {
          std::string scratch;
          escape(er->GetStringReference(entry, key, &scratch));
          break;
        }
      }
      out_ += pretty_ ? ": " : ":";
      singular(entry, er, value, depth + 1);
      maybe_flush();
    }
    if (n > 0) newline(depth);
    out_ += '}';
  }

  void escape(std::string_view s) { util::append_json_string(out_, s); }
  void base64(std::string_view s) { util::append_json_base64(out_, s); }

  const bool pretty_;
  std::string& out_;
  const Sink* sink_;
  const FieldDescriptor* streamed_ = nullptr;
  const ElementSource* next_ = nullptr;
  bool streamed_done_ = false;
  std::deque<std::vector<const FieldDescriptor*>> fields_;
  std::unordered_map<const Descriptor*, std::vector<const FieldDescriptor*>>
      sorted_;  // per depth; deque: stable on growth
};

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

}  // namespace

std::string to_json(const google::protobuf::Message& msg, bool pretty) {
  std::string out;
  Emitter(pretty, out, nullptr).message(msg, 0);
  return out;
}

namespace {

void emit(const google::protobuf::Message& msg, bool pretty, const FieldDescriptor* streamed, const ElementSource* next,
          const Sink& sink) {
  std::string buf;
  buf.reserve(kChunk + kChunk / 4);
  Emitter e(pretty, buf, &sink);
  e.stream_field(streamed, next);
  e.message(msg, 0);
  e.flush();
}

}  // namespace

Sink stdio_sink(std::FILE* out) {
  return [out](std::string_view piece) {
    if (std::fwrite(piece.data(), 1, piece.size(), out) != piece.size()) {
      throw JsonError(std::string("cannot write JSON: ") + std::strerror(errno));
    }
  };
}

void write_json(const google::protobuf::Message& msg, bool pretty, const Sink& sink) {
  emit(msg, pretty, nullptr, nullptr, sink);
}

void write_json(const google::protobuf::Message& msg, bool pretty, std::FILE* out) {
  write_json(msg, pretty, stdio_sink(out));
}

void write_json(const google::protobuf::Message& msg, bool pretty, std::string_view streamed_field,
                const ElementSource& next, const Sink& sink) {
  // A dotted path: singular message fields down to the repeated one.
  const Message* holder = &msg;
  const FieldDescriptor* f = nullptr;
  std::string_view rest = streamed_field;
  bool ok = true;
  while (ok) {
    std::size_t dot = rest.find('.');
    f = holder->GetDescriptor()->FindFieldByName(std::string(rest.substr(0, dot)));
    if (dot == std::string_view::npos) break;
    ok = f && !f->is_repeated() && f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    if (ok) holder = &holder->GetReflection()->GetMessage(*holder, f);
    rest.remove_prefix(dot + 1);
  }
  if (!ok || !f || !f->is_repeated() || f->is_map() || f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
      holder->GetReflection()->FieldSize(*holder, f) != 0) {
    throw util::Error(util::ErrorKind::kInternal, "write_json: " + std::string(streamed_field) +
                                                      " is not an empty repeated message field of " +
                                                      msg.GetDescriptor()->full_name());
  }
  emit(msg, pretty, f, &next, sink);
}

void from_json(std::string_view json, google::protobuf::Message& msg) {
  msg.Clear();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto st = google::protobuf::util::JsonStringToMessage(google::protobuf::StringPiece(json.data(), json.size()), &msg,
                                                        options);
  if (!st.ok()) {
    throw JsonError(
        one_line("invalid JSON for " + msg.GetDescriptor()->full_name() + ": " + std::string(st.message())));
  }
}

}  // namespace ckpt::json
