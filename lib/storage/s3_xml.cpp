#include "storage/s3_xml.h"

#include <charconv>
#include <cstring>
#include <ctime>
#include <memory>

#include "storage/client_libraries.h"
#include "util/error.h"

namespace ckpt::storage::s3xml {
namespace {

using Doc = std::unique_ptr<xmlDoc, decltype(&::xmlFreeDoc)>;

Doc parse(std::string_view xml) {
  if (xml.size() > static_cast<size_t>(INT32_MAX)) return Doc(nullptr, xml_library().free_doc);
  return Doc(xml_library().read_memory(xml.data(), static_cast<int>(xml.size()), "s3.xml", nullptr,
                                       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING),
             xml_library().free_doc);
}

bool named(const xmlNode* n, const char* name) {
  return n->type == XML_ELEMENT_NODE && std::strcmp(reinterpret_cast<const char*>(n->name), name) == 0;
}

std::string text(const xmlNode* n) {
  std::string out;
  for (const xmlNode* c = n->children; c; c = c->next) {
    if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
      out += reinterpret_cast<const char*>(c->content);
    }
  }
  return out;
}

std::string child_text(const xmlNode* n, const char* name) {
  for (const xmlNode* c = n->children; c; c = c->next) {
    if (named(c, name)) return text(c);
  }
  return {};
}

const xmlNode* root_named(const Doc& doc, const char* name, std::string_view what) {
  const xmlNode* root = doc ? xml_library().doc_get_root_element(doc.get()) : nullptr;
  if (!root || !named(root, name)) {
    throw util::Error(util::ErrorKind::kIo, std::string(what) + ": expected an XML <" + name + "> document");
  }
  return root;
}

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\r':
        out += "&#13;";
        break;  // a key may hold any byte XML 1.0 allows
      case '\n':
        out += "&#10;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::optional<int64_t> parse_iso8601_ns(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (s.size() < 19 ||
      std::sscanf(std::string(s.substr(0, 19)).c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6) {
    return std::nullopt;
  }
  int64_t frac_ns = 0;
  if (s.size() > 20 && s[19] == '.') {
    int64_t scale = 100'000'000;
    for (size_t i = 20; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, scale /= 10) frac_ns += (s[i] - '0') * scale;
  }
  struct tm t {};
  t.tm_year = y - 1900;
  t.tm_mon = mo - 1;
  t.tm_mday = d;
  t.tm_hour = h;
  t.tm_min = mi;
  t.tm_sec = sec;
  return static_cast<int64_t>(timegm(&t)) * 1'000'000'000 + frac_ns;
}

ListPage parse_list(std::string_view xml, std::string_view what) {
  Doc doc = parse(xml);
  const xmlNode* root = root_named(doc, "ListBucketResult", what);
  ListPage page;
  for (const xmlNode* c = root->children; c; c = c->next) {
    if (named(c, "IsTruncated")) {
      page.truncated = text(c) == "true";
    } else if (named(c, "NextContinuationToken")) {
      page.next_token = text(c);
    } else if (named(c, "Contents")) {
      ObjectInfo o;
      o.key = child_text(c, "Key");
      std::string size = child_text(c, "Size");
      auto [p, ec] = std::from_chars(size.data(), size.data() + size.size(), o.size);
      auto modified = parse_iso8601_ns(child_text(c, "LastModified"));
      if (o.key.empty() || ec != std::errc() || p != size.data() + size.size() || !modified) {
        throw util::Error(util::ErrorKind::kIo,
                          std::string(what) + ": a <Contents> entry without Key, Size or LastModified");
      }
      o.modified_unix_ns = *modified;
      o.etag = child_text(c, "ETag");
      page.objects.push_back(std::move(o));
    }
  }
  if (page.truncated && page.next_token.empty()) {
    throw util::Error(util::ErrorKind::kIo, std::string(what) + ": truncated listing without NextContinuationToken");
  }
  return page;
}

std::vector<DeleteFailure> parse_delete_result(std::string_view xml, std::string_view what) {
  Doc doc = parse(xml);
  const xmlNode* root = root_named(doc, "DeleteResult", what);
  std::vector<DeleteFailure> out;
  for (const xmlNode* c = root->children; c; c = c->next) {
    if (!named(c, "Error")) continue;
    out.push_back({child_text(c, "Key"), child_text(c, "Code") + ": " + child_text(c, "Message")});
  }
  return out;
}

std::string parse_upload_id(std::string_view xml, std::string_view what) {
  Doc doc = parse(xml);
  std::string id = child_text(root_named(doc, "InitiateMultipartUploadResult", what), "UploadId");
  if (id.empty()) throw util::Error(util::ErrorKind::kIo, std::string(what) + ": no UploadId in the answer");
  return id;
}

std::optional<ErrorBody> parse_error(std::string_view xml) {
  if (xml.empty()) return std::nullopt;
  Doc doc = parse(xml);
  const xmlNode* root = doc ? xml_library().doc_get_root_element(doc.get()) : nullptr;
  if (!root || !named(root, "Error")) return std::nullopt;
  return ErrorBody{child_text(root, "Code"), child_text(root, "Message")};
}

std::string delete_request(std::span<const std::string> keys) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete><Quiet>true</Quiet>";
  for (const std::string& k : keys) out += "<Object><Key>" + escape(k) + "</Key></Object>";
  out += "</Delete>";
  return out;
}

std::string complete_request(const std::vector<std::string>& etags) {
  std::string out = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i) {
    out += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + escape(etags[i]) + "</ETag></Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

}  // namespace ckpt::storage::s3xml
