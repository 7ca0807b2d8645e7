#include "storage/s3_settings.h"

#include <cstdlib>
#include <fstream>

#include "util/error.h"

namespace ckpt::storage {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::string lookup(const std::map<std::string, std::string>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? std::string() : it->second;
}

bool truthy(const std::string& v) { return v == "true" || v == "TRUE" || v == "True" || v == "1"; }

uint64_t parse_size(const std::string& key, const std::string& v) {
  // Flink's MemorySize syntax: a number with an optional unit (b, kb, mb, gb).
  size_t i = 0;
  uint64_t n = 0;
  while (i < v.size() && v[i] >= '0' && v[i] <= '9' && n < (uint64_t{1} << 40)) n = n * 10 + (v[i++] - '0');
  std::string unit = trim(v.substr(i));
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  uint64_t mul = unit.empty() || unit == "b" || unit == "bytes"       ? 1
                 : unit == "k" || unit == "kb" || unit == "kibibytes" ? 1u << 10
                 : unit == "m" || unit == "mb" || unit == "mebibytes" ? 1u << 20
                 : unit == "g" || unit == "gb" || unit == "gibibytes" ? 1u << 30
                                                                      : 0;
  // S3 parts are 5 MiB at least (but the last); a test server takes smaller ones.
  if (i == 0 || mul == 0 || n == 0 || n * mul > (uint64_t{5} << 30)) {
    throw util::Error(util::ErrorKind::kUsage, key + "=" + v + ": expected a size such as 16mb (at most 5gb)");
  }
  return n * mul;
}

bool host_takes_no_bucket(const std::string& endpoint) {
  size_t b = endpoint.find("://");
  b = b == std::string::npos ? 0 : b + 3;
  std::string host = endpoint.substr(b, endpoint.find_first_of(":/", b) - b);
  if (endpoint.compare(b, 1, "[") == 0 || host == "localhost") return true;
  return !host.empty() && host.find_first_not_of("0123456789.") == std::string::npos;
}

}  // namespace

std::map<std::string, std::map<std::string, std::string>> read_aws_ini(const std::string& path) {
  std::map<std::string, std::map<std::string, std::string>> out;
  std::ifstream in(path);
  std::string line, section;
  while (std::getline(in, line)) {
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      section = trim(t.substr(1, t.size() - 2));
      continue;
    }
    size_t eq = t.find('=');
    if (eq == std::string::npos || section.empty()) continue;
    out[section][trim(t.substr(0, eq))] = trim(t.substr(eq + 1));
  }
  return out;
}

S3Settings resolve_s3_settings(const std::string& scheme, const std::map<std::string, std::string>& config) {
  S3Settings s;
  std::string home = env("HOME");
  std::string profile = env("AWS_PROFILE").empty() ? "default" : env("AWS_PROFILE");
  std::string cred_file = env("AWS_SHARED_CREDENTIALS_FILE");
  if (cred_file.empty()) cred_file = home + "/.aws/credentials";
  std::string config_file = env("AWS_CONFIG_FILE");
  if (config_file.empty()) config_file = home + "/.aws/config";
  auto creds = read_aws_ini(cred_file);
  auto aws_config = read_aws_ini(config_file);
  const auto& cred_section = creds[profile];
  const auto& config_section = aws_config[profile == "default" ? "default" : "profile " + profile];

  // Credentials: one source supplies both halves, so that halves of two identities never mix.
  if (!lookup(config, "s3.access-key").empty() || !lookup(config, "s3.secret-key").empty()) {
    s.access_key = lookup(config, "s3.access-key");
    s.secret_key = lookup(config, "s3.secret-key");
    s.credentials_source = "s3.access-key/s3.secret-key";
  } else if (!env("AWS_ACCESS_KEY_ID").empty()) {
    s.access_key = env("AWS_ACCESS_KEY_ID");
    s.secret_key = env("AWS_SECRET_ACCESS_KEY");
    s.session_token = env("AWS_SESSION_TOKEN");
    s.credentials_source = "AWS_ACCESS_KEY_ID";
  } else if (cred_section.count("aws_access_key_id")) {
    s.access_key = lookup(cred_section, "aws_access_key_id");
    s.secret_key = lookup(cred_section, "aws_secret_access_key");
    s.session_token = lookup(cred_section, "aws_session_token");
    s.credentials_source = "profile " + profile + " in " + cred_file;
  } else if (config_section.count("aws_access_key_id")) {
    s.access_key = lookup(config_section, "aws_access_key_id");
    s.secret_key = lookup(config_section, "aws_secret_access_key");
    s.session_token = lookup(config_section, "aws_session_token");
    s.credentials_source = "profile " + profile + " in " + config_file;
  }
  if (s.access_key.empty() || s.secret_key.empty()) {
    std::string why =
        s.credentials_source.empty() ? "no credentials found" : "incomplete credentials from " + s.credentials_source;
    throw util::Error(util::ErrorKind::kUsage,
                      scheme + "://: " + why +
                          ": looked at -D s3.access-key/s3.secret-key, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                          "and profile " +
                          profile + " in " + cred_file + " and " + config_file +
                          " (web identity and instance metadata are not supported yet)");
  }

  std::string region = lookup(config, "s3.endpoint.region");
  if (region.empty()) region = lookup(config, "s3.region");
  if (region.empty()) region = env("AWS_REGION");
  if (region.empty()) region = env("AWS_DEFAULT_REGION");
  if (region.empty()) region = lookup(config_section, "region");
  if (!region.empty()) s.region = region;

  s.endpoint = lookup(config, "s3.endpoint");
  if (s.endpoint.empty()) s.endpoint = env("AWS_ENDPOINT_URL_S3");
  if (s.endpoint.empty()) s.endpoint = env("AWS_ENDPOINT_URL");
  if (s.endpoint.empty()) s.endpoint = lookup(config_section, "endpoint_url");
  if (s.endpoint.empty()) {
    s.endpoint = scheme == "gs" ? "https://storage.googleapis.com" : "https://s3." + s.region + ".amazonaws.com";
  } else if (s.endpoint.find("://") == std::string::npos) {
    s.endpoint = "https://" + s.endpoint;  // Flink's s3.endpoint is often written without a scheme
  }
  while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();
  // s3.path.style.access decides when set, as in Flink (default false: virtual-host). An endpoint
  // whose host is an IP address or localhost cannot carry a bucket name: path style there.
  std::string path_style = lookup(config, "s3.path.style.access");
  s.path_style = path_style.empty() ? host_takes_no_bucket(s.endpoint) : truthy(path_style);
  if (std::string v = lookup(config, "s3.multipart.size"); !v.empty()) s.part_size = parse_size("s3.multipart.size", v);
  return s;
}

}  // namespace ckpt::storage
