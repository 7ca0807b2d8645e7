#include "storage/s3_client.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <random>
#include <thread>

#include "storage/client_libraries.h"
#include "storage/s3_xml.h"

namespace ckpt::storage {
namespace {

using Clock = std::chrono::steady_clock;

std::string hex(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

void digest(const EVP_MD* md, std::string_view bytes, unsigned char* out, unsigned* len) {
  crypto_library().digest(bytes.data(), bytes.size(), out, len, md, nullptr);
}

// One transfer in flight: the request it serves, its attempt, and what came back so far.
struct Transfer {
  size_t index = 0;
  int attempt = 0;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string url;
  S3Response response;
  uint64_t limit = 0;
  bool over_limit = false;
  std::FILE* sink = nullptr;  // S3Request::download_to, rewritten on each attempt
  bool sink_failed = false;
  char error_buffer[CURL_ERROR_SIZE] = {};
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t bytes = size * n;
  long status = 0;
  curl_library().easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  // An error document is read whole (up to 64 KiB) to name S3's error code, whatever the limit.
  uint64_t limit = status >= 300 ? std::max<uint64_t>(t->limit, 64 << 10) : t->limit;
  if (t->sink && status < 300) {
    if (std::fwrite(data, 1, bytes, t->sink) != bytes) {
      t->sink_failed = true;
      return 0;
    }
    return bytes;
  }
  if (t->response.body.size() + bytes > limit) {
    t->over_limit = true;
    return 0;  // aborts the transfer: the answer is longer than the caller allows
  }
  t->response.body.append(data, bytes);
  return bytes;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    t->response.headers.clear();  // a new response (after 100 Continue)
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  t->response.headers[name] = std::string(value);
  return size * n;
}

bool retryable_curl(CURLcode c) {
  switch (c) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

bool retryable_status(long status, const std::string& code) {
  return status == 500 || status == 502 || status == 503 || status == 504 || status == 429 || code == "SlowDown" ||
         code == "RequestTimeout" || code == "InternalError";
}

// What became of a finished transfer: nothing (success), or the one-line failure, whether it is
// worth another attempt, and its kind.
struct Outcome {
  std::string failure;
  bool retry = false;
  util::ErrorKind kind = util::ErrorKind::kIo;
};

Outcome outcome_of(Transfer& t, const S3Request& q, CURLcode code, const std::string& what) {
  Outcome o;
  S3Response& r = t.response;
  const std::string op = q.operation.empty() ? q.method : q.operation;
  if (t.sink && std::fclose(t.sink) != 0) t.sink_failed = true;
  t.sink = nullptr;
  if (t.sink_failed) {
    o.failure = what + ": " + op + ": cannot write " + q.download_to + ": " + std::strerror(errno);
  } else if (t.over_limit) {
    o.failure = what + ": " + op + ": the answer is longer than " + std::to_string(t.limit) + " bytes";
    o.kind = util::ErrorKind::kInput;
  } else if (code != CURLE_OK) {
    o.failure = what + ": " + op + ": " + (t.error_buffer[0] ? t.error_buffer : curl_library().easy_strerror(code)) +
                " (" + t.url.substr(0, t.url.find('?')) + ")";
    o.retry = retryable_curl(code);
  } else if (r.status >= 300 && !(r.status == 404 && q.not_found_is_answer)) {
    auto body = s3xml::parse_error(r.body);
    std::string code_text = body ? body->code : "";
    o.failure = what + ": " + op + ": HTTP " + std::to_string(r.status) + (code_text.empty() ? "" : " " + code_text) +
                (body && !body->message.empty() ? ": " + body->message : "");
    o.retry = retryable_status(r.status, code_text);
    if (r.status == 404 && (code_text == "NoSuchKey" || code_text.empty())) o.kind = util::ErrorKind::kInput;
    if (code_text == "NoSuchBucket") o.kind = util::ErrorKind::kUsage;
  }
  return o;
}

// Sets up `t.easy` for `q`: signing, headers, body, callbacks and timeouts.
void configure(Transfer& t, const S3Request& q, const S3Settings& s, const std::string& sigv4) {
  CURL* e = t.easy;
  for (const auto& h : q.headers) t.headers = curl_library().slist_append(t.headers, h.c_str());
  t.headers = curl_library().slist_append(t.headers, ("x-amz-content-sha256: " + sha256_hex(q.body)).c_str());
  if (!s.session_token.empty()) {
    t.headers = curl_library().slist_append(t.headers, ("x-amz-security-token: " + s.session_token).c_str());
  }
  if (q.range) {
    t.headers = curl_library().slist_append(t.headers, ("Range: bytes=" + std::to_string(q.range->first) + "-" +
                                                        std::to_string(q.range->first + q.range->second - 1))
                                                           .c_str());
  }
  curl_library().easy_setopt(e, CURLOPT_URL, t.url.c_str());
  curl_library().easy_setopt(e, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_library().easy_setopt(e, CURLOPT_USERNAME, s.access_key.c_str());
  curl_library().easy_setopt(e, CURLOPT_PASSWORD, s.secret_key.c_str());
  if (q.method == "HEAD") {
    curl_library().easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (q.method != "GET") {
    curl_library().easy_setopt(e, CURLOPT_CUSTOMREQUEST, q.method.c_str());
  }
  if (q.method == "PUT" || q.method == "POST") {
    curl_library().easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(q.body.size()));
    curl_library().easy_setopt(e, CURLOPT_POSTFIELDS, q.body.data());
    bool typed = std::any_of(q.headers.begin(), q.headers.end(),
                             [](const std::string& h) { return h.starts_with("Content-Type:"); });
    if (!typed) t.headers = curl_library().slist_append(t.headers, "Content-Type: application/octet-stream");
  }
  curl_library().easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
  curl_library().easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_library().easy_setopt(e, CURLOPT_WRITEDATA, &t);
  curl_library().easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_library().easy_setopt(e, CURLOPT_HEADERDATA, &t);
  curl_library().easy_setopt(e, CURLOPT_ERRORBUFFER, t.error_buffer);
  curl_library().easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_library().easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10'000L);
  // A stalled transfer (no byte for 30 s) is a timeout to retry, whatever its size.
  curl_library().easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_library().easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 30L);
  curl_library().easy_setopt(e, CURLOPT_PRIVATE, &t);
}

}  // namespace

std::string s3_encode(std::string_view s, bool keep_slash) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  digest(crypto_library().sha256(), bytes, out, &len);
  return hex(out, len);
}

std::string md5_hex(std::string_view bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  digest(crypto_library().md5(), bytes, out, &len);
  return hex(out, len);
}

std::string md5_base64(std::string_view bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  digest(crypto_library().md5(), bytes, out, &len);
  unsigned char b64[64];
  int n = crypto_library().encode_block(b64, out, static_cast<int>(len));
  return std::string(reinterpret_cast<char*>(b64), static_cast<size_t>(n));
}

struct S3Client::Impl {
  CURLM* multi = nullptr;
  std::vector<CURL*> idle;  // easy handles kept between requests: their connections stay alive
  std::mt19937_64 rng{std::random_device{}()};
  ~Impl() {
    for (CURL* e : idle) curl_library().easy_cleanup(e);
    if (multi) curl_library().multi_cleanup(multi);
  }
};

S3Client::S3Client(S3Settings settings, std::string scheme, std::string bucket)
    : settings_(std::move(settings)), scheme_(std::move(scheme)), bucket_(std::move(bucket)), impl_(new Impl) {
  impl_->multi = curl_library().multi_init();
  curl_library().multi_setopt(impl_->multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(settings_.parallelism));
}

S3Client::~S3Client() = default;

std::string S3Client::uri(std::string_view key) const { return scheme_ + "://" + bucket_ + "/" + std::string(key); }

S3Response S3Client::perform(const S3Request& request) {
  S3Response r = std::move(perform_all({request}).front());
  if (!r.ok()) throw util::Error(r.kind, r.error);
  return r;
}

std::vector<S3Response> S3Client::perform_all(const std::vector<S3Request>& requests) {
  std::vector<S3Response> out(requests.size());
  std::deque<std::pair<size_t, int>> ready;  // (request, attempt) to start now
  for (size_t i = 0; i < requests.size(); ++i) ready.emplace_back(i, 0);
  std::vector<std::tuple<Clock::time_point, size_t, int>> waiting;  // retries after their backoff
  std::vector<std::unique_ptr<Transfer>> active;

  std::string scheme_sep = "://";
  size_t host_at = settings_.endpoint.find(scheme_sep);
  std::string proto = settings_.endpoint.substr(0, host_at);
  std::string host = settings_.endpoint.substr(host_at + scheme_sep.size());
  std::string sigv4 = "aws:amz:" + settings_.region + ":s3";

  auto start = [&](size_t index, int attempt) {
    const S3Request& q = requests[index];
    auto t = std::make_unique<Transfer>();
    t->index = index;
    t->attempt = attempt;
    t->limit = q.max_response;
    std::string path = "/" + s3_encode(q.key, true);
    t->url = settings_.path_style ? proto + "://" + host + "/" + bucket_ + path
                                  : proto + "://" + bucket_ + "." + host + path;
    auto query = q.query;
    std::sort(query.begin(), query.end());
    for (size_t i = 0; i < query.size(); ++i) {
      t->url += (i ? "&" : "?") + s3_encode(query[i].first, false) + "=" + s3_encode(query[i].second, false);
    }
    if (!impl_->idle.empty()) {
      t->easy = impl_->idle.back();
      impl_->idle.pop_back();
      curl_library().easy_reset(t->easy);
    } else {
      t->easy = curl_library().easy_init();
    }
    if (!q.download_to.empty()) {
      t->sink = std::fopen(q.download_to.c_str(), "wb");
      if (!t->sink) t->sink_failed = true;  // reported when the transfer ends
    }
    configure(*t, q, settings_, sigv4);
    CURL* e = t->easy;
    curl_library().multi_add_handle(impl_->multi, e);
    ++requests_sent_;
    active.push_back(std::move(t));
  };

  auto backoff = [&](int attempt) {
    int64_t cap = std::min<int64_t>(settings_.max_delay_ms, int64_t{settings_.base_delay_ms} << std::min(attempt, 20));
    std::uniform_int_distribution<int64_t> jitter(0, std::max<int64_t>(cap, 1));
    return std::chrono::milliseconds(jitter(impl_->rng));
  };

  auto finish = [&](Transfer& t, CURLcode code) {
    const S3Request& q = requests[t.index];
    S3Response& r = t.response;
    curl_library().easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &r.status);
    Outcome o = outcome_of(t, q, code, uri(q.subject.empty() ? q.key : q.subject));
    std::string& failure = o.failure;
    const bool retry = o.retry;
    const util::ErrorKind kind = o.kind;
    if (!failure.empty() && retry && t.attempt + 1 < settings_.max_attempts) {
      waiting.emplace_back(Clock::now() + backoff(t.attempt), t.index, t.attempt + 1);
      return;
    }
    if (!failure.empty()) {
      if (retry) failure += " (after " + std::to_string(t.attempt + 1) + " attempts)";
      r.error = std::move(failure);
      r.kind = kind;
    }
    out[t.index] = std::move(r);
  };

  size_t limit = static_cast<size_t>(std::max(1, settings_.parallelism));
  while (!ready.empty() || !active.empty() || !waiting.empty()) {
    auto now = Clock::now();
    for (auto it = waiting.begin(); it != waiting.end();) {
      if (std::get<0>(*it) <= now) {
        ready.emplace_back(std::get<1>(*it), std::get<2>(*it));
        it = waiting.erase(it);
      } else {
        ++it;
      }
    }
    while (!ready.empty() && active.size() < limit) {
      auto [index, attempt] = ready.front();
      ready.pop_front();
      start(index, attempt);
    }
    int running = 0;
    curl_library().multi_perform(impl_->multi, &running);
    int left = 0;
    while (CURLMsg* m = curl_library().multi_info_read(impl_->multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_library().easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &t);
      CURLcode code = m->data.result;
      curl_library().multi_remove_handle(impl_->multi, t->easy);
      finish(*t, code);
      curl_library().slist_free_all(t->headers);
      impl_->idle.push_back(t->easy);
      active.erase(std::find_if(active.begin(), active.end(), [&](const auto& p) { return p.get() == t; }));
    }
    if (active.empty() && ready.empty() && !waiting.empty()) {
      auto next = std::get<0>(*std::min_element(waiting.begin(), waiting.end()));
      std::this_thread::sleep_until(next);
    } else if (!active.empty()) {
      curl_library().multi_poll(impl_->multi, nullptr, 0, 50, nullptr);
    }
  }
  return out;
}

}  // namespace ckpt::storage
