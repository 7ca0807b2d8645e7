// Test runner. Tests that read the real Flink fixtures live in the doctest suite "fixtures" and
// are registered as their own ctest entry; when the fixtures are absent that entry exits 77,
// which ctest reports as skipped (never as passed).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string_view>

#include "fixtures.h"

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--test-suite=fixtures" && !fixtures::available()) {
      std::fprintf(stderr, "fixtures not found at %s: skipped\n", fixtures::root().c_str());
      return 77;
    }
  }
  doctest::Context context(argc, argv);
  return context.run();
}
