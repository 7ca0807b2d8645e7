// The storage layer without a server: object URIs, S3 settings resolution, S3's XML answers,
// the local store, and discovery over a store listing.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "snapshot/store_discovery.h"
#include "storage/background_prefetch.h"
#include "storage/local_store.h"
#include "storage/object_cache.h"
#include "storage/object_uri.h"
#include "storage/s3_client.h"
#include "storage/s3_settings.h"
#include "storage/s3_xml.h"
#include "util/error.h"

namespace fs = std::filesystem;
using namespace ckpt;

namespace {

// Sets environment variables for one test and restores them afterwards.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (const char* name :
         {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
          "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"}) {
      const char* v = std::getenv(name);
      saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
      ::unsetenv(name);
    }
    for (auto [k, v] : vars) ::setenv(k, v, 1);
  }
  ~ScopedEnv() {
    for (auto& [k, v] : saved_) {
      if (v) ::setenv(k.c_str(), v->c_str(), 1);
      else ::unsetenv(k.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// An in-memory store: the listing discovery sees, without a server.
class FakeStore final : public storage::ObjectStore {
 public:
  std::vector<storage::ObjectInfo> objects;
  std::string uri(std::string_view key) const override { return "s3://b/" + std::string(key); }
  void list(std::string_view prefix, const std::function<void(std::span<const storage::ObjectInfo>)>& page) override {
    std::vector<storage::ObjectInfo> out;
    for (const auto& o : objects) {
      if (o.key.starts_with(prefix)) out.push_back(o);
    }
    page(out);
  }
  std::optional<storage::ObjectInfo> stat(std::string_view key) override {
    for (const auto& o : objects) {
      if (o.key == key) return o;
    }
    return std::nullopt;
  }
  std::string read(std::string_view, uint64_t) override { return {}; }
  std::string read_range(std::string_view, uint64_t, uint64_t) override { return {}; }
  std::vector<std::string> read_all(std::span<const std::string>, uint64_t) override { return {}; }
  void write_atomic(std::string_view, std::string_view, bool) override {}
  void copy(std::string_view, std::string_view) override {}
  void download(std::span<const std::string>, std::span<const std::string>) override {}
  void upload(std::span<const std::string>, std::span<const std::string>) override {}
  std::vector<storage::DeleteFailure> remove(std::span<const std::string>) override { return {}; }
};

}  // namespace

TEST_CASE("object URIs: s3, s3a, s3p and gs; one store for the three S3 schemes") {
  auto u = storage::parse_object_uri("s3a://bucket/ck//job/chk-5/_metadata");
  REQUIRE(u);
  CHECK(u->scheme == "s3a");
  CHECK(u->bucket == "bucket");
  CHECK(u->key == "ck/job/chk-5/_metadata");
  CHECK(storage::parse_object_uri("s3://bucket")->key.empty());
  CHECK(storage::same_bucket(*storage::parse_object_uri("s3p://bucket/x"), *u));
  CHECK_FALSE(storage::same_bucket(*storage::parse_object_uri("gs://bucket/x"), *u));
  CHECK_FALSE(storage::parse_object_uri("hdfs://nn/x"));
  CHECK_FALSE(storage::parse_object_uri("/local/path"));
  std::string problem;
  CHECK_FALSE(storage::parse_object_uri("s3:///key", &problem));
  CHECK(problem.find("no bucket") != std::string::npos);
}

TEST_CASE("S3 settings: Flink keys before the environment before the profile files") {
  fs::path dir = fs::temp_directory_path() / "ckpt_test_s3_settings";
  fs::create_directories(dir);
  std::ofstream(dir / "credentials") << "[default]\naws_access_key_id = DEF\naws_secret_access_key = defsecret\n"
                                     << "[prod]\naws_access_key_id=PROD\naws_secret_access_key=prodsecret\n"
                                     << "aws_session_token = tok\n";
  std::ofstream(dir / "config") << "[profile prod]\nregion = eu-west-1\nendpoint_url = http://10.0.0.5:9000\n";
  std::string creds = (dir / "credentials").string(), config = (dir / "config").string();
  {
    ScopedEnv env{
        {"AWS_SHARED_CREDENTIALS_FILE", creds.c_str()}, {"AWS_CONFIG_FILE", config.c_str()}, {"AWS_PROFILE", "prod"}};
    auto s = storage::resolve_s3_settings("s3", {});
    CHECK(s.access_key == "PROD");
    CHECK(s.session_token == "tok");
    CHECK(s.region == "eu-west-1");
    CHECK(s.endpoint == "http://10.0.0.5:9000");
    CHECK(s.path_style);  // an IP address cannot carry a bucket name
  }
  {
    ScopedEnv env{{"AWS_SHARED_CREDENTIALS_FILE", creds.c_str()},
                  {"AWS_ACCESS_KEY_ID", "ENV"},
                  {"AWS_SECRET_ACCESS_KEY", "envsecret"},
                  {"AWS_DEFAULT_REGION", "us-west-2"}};
    auto s = storage::resolve_s3_settings("s3", {});
    CHECK(s.access_key == "ENV");
    CHECK(s.endpoint == "https://s3.us-west-2.amazonaws.com");
    CHECK_FALSE(s.path_style);
    auto f = storage::resolve_s3_settings("s3", {{"s3.access-key", "FLINK"},
                                                 {"s3.secret-key", "flinksecret"},
                                                 {"s3.endpoint", "minio.local:9000"},
                                                 {"s3.path.style.access", "true"},
                                                 {"s3.multipart.size", "5mb"}});
    CHECK(f.access_key == "FLINK");
    CHECK(f.session_token.empty());  // never half of one identity and half of another
    CHECK(f.endpoint == "https://minio.local:9000");
    CHECK(f.path_style);
    CHECK(f.part_size == 5u << 20);
    CHECK_THROWS_AS(storage::resolve_s3_settings(
                        "s3", {{"s3.access-key", "A"}, {"s3.secret-key", "B"}, {"s3.multipart.size", "lots"}}),
                    util::Error);
  }
  {
    ScopedEnv env{{"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"}, {"AWS_CONFIG_FILE", "/nonexistent"}};
    try {
      storage::resolve_s3_settings("s3", {});
      FAIL("no credentials must be an error");
    } catch (const util::Error& e) {
      CHECK(e.kind() == util::ErrorKind::kUsage);
      CHECK(std::string(e.what()).find("AWS_ACCESS_KEY_ID") != std::string::npos);
      CHECK(std::string(e.what()).find("web identity") != std::string::npos);
    }
  }
  fs::remove_all(dir);
}

TEST_CASE("S3 XML: list pages, delete results, errors") {
  auto page = storage::s3xml::parse_list(
      R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>ck/</Prefix>
<Contents><Key>ck/a &amp; b</Key><LastModified>2026-12-02T20:46:59.250Z</LastModified><ETag>&quot;9e107d9d372bb6826bd81d3542a419d6&quot;</ETag><Size>42</Size></Contents>
<Contents><Key>ck/c</Key><LastModified>2026-12-02T20:47:00Z</LastModified><Size>0</Size></Contents>
<IsTruncated>true</IsTruncated><NextContinuationToken>tok/=</NextContinuationToken></ListBucketResult>)",
      "s3://b/ck/");
  REQUIRE(page.objects.size() == 2);
  CHECK(page.objects[0].key == "ck/a & b");
  CHECK(page.objects[0].size == 42);
  CHECK(page.objects[0].modified_unix_ns == 1796244419250000000);
  CHECK(page.objects[0].etag == "\"9e107d9d372bb6826bd81d3542a419d6\"");
  CHECK(page.objects[1].etag.empty());
  CHECK(page.truncated);
  CHECK(page.next_token == "tok/=");
  CHECK_THROWS_AS(storage::s3xml::parse_list("<Error><Code>x</Code></Error>", "w"), util::Error);
  CHECK_THROWS_AS(
      storage::s3xml::parse_list("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>", "w"),
      util::Error);
  CHECK_THROWS_AS(storage::s3xml::parse_list("not xml", "w"), util::Error);

  auto failures = storage::s3xml::parse_delete_result(
      "<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b</Key><Code>AccessDenied</Code>"
      "<Message>Access Denied</Message></Error></DeleteResult>",
      "w");
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].key == "b");
  CHECK(failures[0].reason == "AccessDenied: Access Denied");

  auto e = storage::s3xml::parse_error("<Error><Code>SlowDown</Code><Message>Reduce</Message></Error>");
  REQUIRE(e);
  CHECK(e->code == "SlowDown");
  CHECK_FALSE(storage::s3xml::parse_error("<CopyObjectResult/>"));

  std::vector<std::string> keys = {"a<b", "c"};
  CHECK(storage::s3xml::delete_request(keys).find("<Key>a&lt;b</Key>") != std::string::npos);
}

TEST_CASE("S3 encoding and digests") {
  CHECK(storage::s3_encode("ck/a b+c~", true) == "ck/a%20b%2Bc~");
  CHECK(storage::s3_encode("a/b", false) == "a%2Fb");
  CHECK(storage::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(storage::md5_base64("") == "1B2M2Y8AsgTpgAmY7PhCfg==");
  CHECK(storage::md5_hex("") == "d41d8cd98f00b204e9800998ecf8427e");
}

TEST_CASE("object cache: only the exact object, intact, vouched for by its ETag; bounded") {
  fs::path dir = fs::temp_directory_path() / "ckpt_test_object_cache";
  fs::remove_all(dir);
  auto listed = [](std::string key, std::string_view bytes) {
    storage::ObjectInfo o;
    o.key = std::move(key);
    o.size = bytes.size();
    o.etag = "\"" + storage::md5_hex(bytes) + "\"";
    return o;
  };
  const std::string body = "the bytes of a _metadata";
  storage::ObjectInfo m = listed("ck/j/chk-1/_metadata", body);
  {
    storage::ObjectCache cache(dir, "endpoint-a bucket", 1 << 20);
    CHECK_FALSE(cache.get(m));
    cache.put(m, body);
    REQUIRE(cache.get(m) == body);
    CHECK(cache.hits() == 1);

    // Another ETag, size, key or store: a miss.
    storage::ObjectInfo other = m;
    other.etag = "\"00000000000000000000000000000000\"";
    CHECK_FALSE(cache.get(other));
    other = m;
    other.size += 1;
    CHECK_FALSE(cache.get(other));
    other = m;
    other.key = "ck/j/chk-2/_metadata";
    CHECK_FALSE(cache.get(other));
    storage::ObjectCache elsewhere(dir, "endpoint-b bucket", 1 << 20);
    CHECK_FALSE(elsewhere.get(m));

    // Bytes the ETag does not vouch for are not recorded: a multipart ETag, none, another MD5.
    storage::ObjectInfo multipart = listed("ck/j/chk-3/_metadata", body);
    multipart.etag = "\"9e107d9d372bb6826bd81d3542a419d6-2\"";
    cache.put(multipart, body);
    CHECK_FALSE(cache.get(multipart));
    storage::ObjectInfo replaced = listed("ck/j/chk-4/_metadata", "what was listed");
    cache.put(replaced, "what was read!!");  // same size, other content
    CHECK_FALSE(cache.get(replaced));
    storage::ObjectInfo none = m;
    none.key = "ck/j/chk-5/_metadata";
    none.etag.clear();
    cache.put(none, body);
    CHECK_FALSE(cache.get(none));
  }
  // A damaged entry (one bit) is a miss, not wrong bytes; so is a truncated one.
  {
    fs::path entry;
    for (const auto& e : fs::directory_iterator(dir)) entry = e.path();
    REQUIRE_FALSE(entry.empty());
    std::string bytes;
    {
      std::ifstream in(entry, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    bytes[bytes.size() - 3] ^= 0x10;
    std::ofstream(entry, std::ios::binary | std::ios::trunc) << bytes;
    storage::ObjectCache cache(dir, "endpoint-a bucket", 1 << 20);
    CHECK_FALSE(cache.get(m));
    cache.put(m, body);
    CHECK(cache.get(m) == body);
    fs::resize_file(entry, fs::file_size(entry) - 1);
    CHECK_FALSE(cache.get(m));
  }
  // Bounded: the least recently used go first once a run has added entries.
  fs::remove_all(dir);
  {
    storage::ObjectCache cache(dir, "s", 4000);
    std::string kb(900, 'x');
    for (int i = 0; i < 8; ++i) {
      kb[0] = static_cast<char>('a' + i);
      cache.put(listed("k" + std::to_string(i), kb), kb);
    }
    kb[0] = 'a';
    CHECK(cache.get(listed("k0", kb)));  // used: kept by the trim below
  }
  uint64_t total = 0;
  for (const auto& e : fs::directory_iterator(dir)) total += e.file_size();
  CHECK(total <= 4000);
  {
    storage::ObjectCache cache(dir, "s", 4000);
    std::string kb(900, 'x');
    kb[0] = 'a';
    CHECK(cache.get(listed("k0", kb)));
    kb[0] = 'h';
    CHECK(cache.get(listed("k7", kb)));
    kb[0] = 'b';
    CHECK_FALSE(cache.get(listed("k1", kb)));
  }
  fs::remove_all(dir);
}

TEST_CASE("object cache: where it is, and how it is turned off") {
  ScopedEnv env({});
  const char* saved[] = {std::getenv("CKPT_CACHE_DIR"), std::getenv("XDG_CACHE_HOME"), std::getenv("HOME")};
  std::string keep[3];
  for (int i = 0; i < 3; ++i) keep[i] = saved[i] ? saved[i] : "";
  ::unsetenv("CKPT_CACHE_DIR");
  ::setenv("XDG_CACHE_HOME", "/xdg", 1);
  ::setenv("HOME", "/home/u", 1);
  CHECK(storage::resolve_object_cache({}, "s")->dir() == "/xdg/ckpt/objects");
  ::unsetenv("XDG_CACHE_HOME");
  CHECK(storage::resolve_object_cache({}, "s")->dir() == "/home/u/.cache/ckpt/objects");
  ::setenv("CKPT_CACHE_DIR", "/c", 1);
  CHECK(storage::resolve_object_cache({}, "s")->dir() == "/c/objects");
  CHECK(storage::resolve_object_cache({{"ckpt.cache.dir", "/d"}}, "s")->dir() == "/d/objects");
  CHECK(storage::resolve_object_cache({{"ckpt.cache.dir", "none"}}, "s") == nullptr);
  CHECK(storage::resolve_object_cache({{"ckpt.cache.max-size", "0"}}, "s") == nullptr);
  CHECK_THROWS_AS(storage::resolve_object_cache({{"ckpt.cache.max-size", "lots"}}, "s"), util::Error);
  ::setenv("CKPT_CACHE_DIR", "none", 1);
  CHECK(storage::resolve_object_cache({}, "s") == nullptr);
  const char* names[] = {"CKPT_CACHE_DIR", "XDG_CACHE_HOME", "HOME"};
  for (int i = 0; i < 3; ++i) {
    if (saved[i]) ::setenv(names[i], keep[i].c_str(), 1);
    else ::unsetenv(names[i]);
  }
}

TEST_CASE("local store: listing in key order, ranges, atomic writes, deletes that converge") {
  fs::path dir = fs::temp_directory_path() / "ckpt_test_local_store";
  fs::remove_all(dir);
  storage::LocalStore store;
  std::string base = dir.string() + "/";
  store.write_atomic(base + "b/x", "hello world", false);
  store.write_atomic(base + "a", "1", false);
  CHECK_THROWS_AS(store.write_atomic(base + "a", "2", false), util::Error);
  fs::create_symlink(dir / "a", dir / "link");  // never listed: links are not objects
  auto all = storage::list_all(store, base);
  REQUIRE(all.size() == 2);
  CHECK(all[0].key == base + "a");
  CHECK(all[1].key == base + "b/x");
  CHECK(all[1].size == 11);
  CHECK(store.read_range(base + "b/x", 6, 100) == "world");
  CHECK(store.read_range(base + "b/x", 20, 5).empty());
  CHECK_FALSE(store.stat(base + "nope"));
  std::vector<std::string> keys = {base + "a", base + "a", base + "nope"};
  CHECK(store.remove(keys).empty());
  CHECK(storage::list_all(store, base + "zzz/").empty());
  fs::remove_all(dir);
}

storage::ObjectInfo object_named(std::string key) {
  storage::ObjectInfo o;
  o.key = std::move(key);
  return o;
}

TEST_CASE("background prefetch: objects added while it runs are read; missing ones are absent") {
  fs::path dir = fs::temp_directory_path() / "ckpt_test_background_prefetch";
  fs::remove_all(dir);
  std::string base = dir.string() + "/";
  storage::LocalStore writer;
  for (int i = 0; i < 600; ++i) writer.write_atomic(base + std::to_string(i), "object " + std::to_string(i), false);
  {
    storage::BackgroundPrefetch pf(std::make_unique<storage::LocalStore>(), 1 << 20, nullptr);
    for (int i = 0; i < 600; ++i) pf.add(object_named(base + std::to_string(i)));
    auto got = pf.take();
    CHECK(got.size() == 600);
    CHECK(got.at(base + "599") == "object 599");
  }
  {
    // A slice with an unreadable object is left to the caller's own reads (prefetch's rule):
    // whatever comes back is right, the missing object is not there.
    storage::BackgroundPrefetch pf(std::make_unique<storage::LocalStore>(), 1 << 20, nullptr);
    pf.add(object_named(base + "7"));
    pf.add(object_named(base + "missing"));
    auto got = pf.take();
    CHECK_FALSE(got.contains(base + "missing"));
    for (const auto& [k, v] : got) CHECK(v == "object " + k.substr(base.size()));
  }
  {
    storage::BackgroundPrefetch none(nullptr, 1 << 20, nullptr);
    none.add(object_named(base + "1"));
    CHECK(none.take().empty());
  }
  {
    storage::BackgroundPrefetch dropped(std::make_unique<storage::LocalStore>(), 1 << 20, nullptr);
    dropped.add(object_named(base + "1"));  // destroyed without take(): joins, nothing leaks
  }
  fs::remove_all(dir);
}

TEST_CASE("discovery over a store listing: prefixes, not directories") {
  FakeStore s;
  auto add = [&](std::string key) { s.objects.push_back({std::move(key), 10, 5'000'000'000, {}}); };
  add("ck/j1/chk-3/_metadata");
  add("ck/j1/chk-3/state-1");
  add("ck/j1/chk-4/state-2");     // no _metadata: incomplete
  add("ck/j1/shared/_metadata");  // a state file that happens to have the name: not a snapshot
  add("ck/j1/taskowned/x");
  add("sp/savepoint-abc/_metadata");
  add("sp/savepoint-abc/nested/_metadata");  // inside a snapshot: not searched
  auto d = snapshot::discover_in_store(s, "");
  REQUIRE(d.snapshots.size() == 2);
  CHECK(d.snapshots[0].metadata.string() == "s3://b/ck/j1/chk-3/_metadata");
  CHECK(d.snapshots[0].dir_kind == snapshot::DirKind::kCheckpoint);
  CHECK(*d.snapshots[0].checkpoint_number == 3);
  CHECK(d.snapshots[0].job_dir.string() == "s3://b/ck/j1");
  CHECK(d.snapshots[0].in_object_store);
  CHECK(d.snapshots[0].listed_mtime_ns == 5'000'000'000);
  CHECK(d.snapshots[1].dir_kind == snapshot::DirKind::kSavepoint);
  REQUIRE(d.incomplete.size() == 1);
  CHECK(d.incomplete[0].string() == "s3://b/ck/j1/chk-4");

  auto one = snapshot::discover_in_store(s, "ck/j1/chk-3/");
  CHECK(one.single);
  CHECK(one.snapshots.size() == 1);
  auto named = snapshot::discover_in_store(s, "ck/j1/chk-3/_metadata");
  CHECK(named.single);
  auto incomplete = snapshot::discover_in_store(s, "ck/j1/chk-4");
  CHECK(incomplete.single);
  CHECK(incomplete.snapshots.empty());
  CHECK(incomplete.incomplete.size() == 1);
  CHECK_THROWS_AS(snapshot::discover_in_store(s, "nothing/here"), util::Error);
}
