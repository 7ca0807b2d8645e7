#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "snapshot/paths.h"

using ckpt::snapshot::is_plainly_normal;

TEST_CASE("is_plainly_normal: never true for a path lexically_normal would change") {
  // Every string of up to 7 characters over {a, ., /}: the fast paths trust this function.
  const char alphabet[] = {'a', '.', '/'};
  int plain = 0;
  for (int len = 0; len <= 7; ++len) {
    int combos = 1;
    for (int i = 0; i < len; ++i) combos *= 3;
    for (int c = 0; c < combos; ++c) {
      std::string p;
      for (int i = 0, x = c; i < len; ++i, x /= 3) p += alphabet[x % 3];
      if (!is_plainly_normal(p)) continue;
      ++plain;
      CAPTURE(p);
      CHECK(std::filesystem::path(p).lexically_normal().native() == p);
      CHECK((p == "/" || p.back() != '/'));
    }
  }
  CHECK(plain > 100);
  for (const char* p : {"/", "a", "/a/b", "/tmp/r/c5ff/shared/0123-abcd", ".a", "a..", "/..a/b.", "a/.b"}) {
    CAPTURE(p);
    CHECK(is_plainly_normal(p));
  }
  for (const char* p : {"", "a/", "/a//b", "/a/./b", "/a/../b", ".", "..", "./a", "/a/.", "/a/..", "//"}) {
    CAPTURE(p);
    CHECK_FALSE(is_plainly_normal(p));
  }
}

TEST_CASE("local_of_user_path: file: URIs are local paths, other schemes are named, --map reaches them") {
  using ckpt::snapshot::local_of_user_path;
  using ckpt::snapshot::PathMapping;
  for (const char* p :
       {"file:/data/ck", "file:///data/ck", "file://localhost/data/ck", "FILE:///data/ck", "/data/ck"}) {
    CAPTURE(p);
    auto u = local_of_user_path(p);
    CHECK(u.ok());
    CHECK(u.local == "/data/ck");
  }
  CHECK(local_of_user_path("chk-3").local == "chk-3");  // relative stays relative
  CHECK(local_of_user_path("file:chk-3").local == "chk-3");
  CHECK(local_of_user_path("a:b").local == "a:b");                // not a URI: a file name with a colon
  CHECK(local_of_user_path("./s3://b/x").local == "./s3://b/x");  // a relative path, however odd
  CHECK(local_of_user_path("-").local == "-");
  for (const char* p :
       {"s3://bucket/ck", "s3a://b/x", "s3p://b/x", "gs://b/x", "hdfs://nn:8020/x", "abfs://c@a/x", "abfss://c@a/x",
        "wasb://c@a/x", "wasbs://c@a/x", "oss://b/x", "viewfs://c/x", "hdfs:/x", "s3://bucket"}) {
    CAPTURE(p);
    auto u = local_of_user_path(p);
    CHECK_FALSE(u.ok());
    CHECK(u.local.empty());
    CHECK(u.scheme == std::string(p, std::string_view(p).find(':')));
    CHECK(u.problem == "scheme \"" + u.scheme + "\" is not supported yet (expected a local path or a file: URI)");
  }
  CHECK(local_of_user_path("s3://bucket/ck/chk-3").root == "s3://bucket");
  CHECK(local_of_user_path("hdfs:/x").root == "hdfs:");
  auto host = local_of_user_path("file://otherhost/x");
  CHECK_FALSE(host.ok());
  CHECK(host.problem.find("host \"otherhost\"") != std::string::npos);
  CHECK_FALSE(local_of_user_path("file://localhost").ok());
  // A remote prefix the user mapped is read from the mapping's directory; local paths never are.
  std::vector<PathMapping> maps{{"s3://bucket/flink", "/mnt/mirror"}, {"/data", "/elsewhere"}};
  CHECK(local_of_user_path("s3://bucket/flink/job/chk-3", maps).local == "/mnt/mirror/job/chk-3");
  CHECK_FALSE(local_of_user_path("s3://bucket/other", maps).ok());
  CHECK(local_of_user_path("/data/ck", maps).local == "/data/ck");
  CHECK(ckpt::snapshot::starts_with_uri("file:///x"));
  CHECK(ckpt::snapshot::starts_with_uri("s3://b"));
  CHECK_FALSE(ckpt::snapshot::starts_with_uri("/a:/b"));
  CHECK_FALSE(ckpt::snapshot::starts_with_uri("tmp:/b"));
}

TEST_CASE("resolve_absolute: the three file: forms of a handle path are local; remote ones need a mapping") {
  using ckpt::snapshot::resolve_absolute;
  using ckpt::snapshot::ResolvedPath;
  for (const char* p : {"file:/data/ck/x", "file:///data/ck/x", "file://localhost/data/ck/x", "/data/ck/x"}) {
    CAPTURE(p);
    ResolvedPath r = resolve_absolute(p, {});
    CHECK(r.kind == ResolvedPath::Kind::kLocal);
    CHECK(r.local == "/data/ck/x");
    CHECK(r.uri == p);
  }
  for (const char* p : {"s3://b/x", "hdfs://nn/x", "file://otherhost/x"}) {
    CAPTURE(p);
    CHECK(resolve_absolute(p, {}).kind == ResolvedPath::Kind::kRemoteUnmapped);
  }
  CHECK(resolve_absolute("s3://b/flink/x", {{"s3://b/flink", "/m"}}).local == "/m/x");
}
