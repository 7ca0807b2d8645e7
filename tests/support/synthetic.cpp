#include "synthetic.h"

#include <fmt/format.h>

#include <random>

#include "flink/builder.h"
#include "flink/checkpoint_properties.h"
#include "flink/key_groups.h"
#include "flink/operator_id.h"
#include "snapshot/discovery.h"

namespace ckpt::testsupport {

flink::Metadata synthetic_incremental(int operators, int subtasks, int shared, int private_files,
                                      const std::string& root) {
  std::mt19937_64 rng(42);
  flink::Metadata md;
  md.version = 4;
  md.checkpoint_id = 1000;
  flink::Builder b(md);
  const std::string job = "7a3f8e2d9c1b4a5f6e7d8c9b0a1f2e3d";
  const int32_t max_p = flink::default_max_parallelism(subtasks);
  for (int o = 0; o < operators; ++o) {
    flink::OperatorState op;
    op.id = flink::operator_id_from_uid(fmt::format("operator-{}", o));
    op.parallelism = subtasks;
    op.max_parallelism = max_p;
    for (int s = 0; s < subtasks; ++s) {
      flink::SubtaskState st;
      st.index = s;
      std::vector<flink::NamedStream> sh, pr;
      for (int f = 0; f < shared; ++f) {
        sh.push_back(b.named(
            fmt::format("{:06}.sst", 10 + f),
            b.file(fmt::format("file:{}/{}/shared/{}", root, job, flink::random_uuid(rng)), 64 * 1024 * 1024 + f)));
      }
      const char* names[] = {"MANIFEST-000004", "OPTIONS-000009", "CURRENT"};
      for (int f = 0; f < private_files; ++f) {
        pr.push_back(
            b.named(f < 3 ? names[f] : fmt::format("extra-{}", f),
                    b.file(fmt::format("file:{}/{}/shared/{}", root, job, flink::random_uuid(rng)), 4096 + f)));
      }
      auto meta = b.relative_file(flink::random_uuid(rng), 1234);
      st.managed_keyed =
          b.incremental(md.checkpoint_id, flink::random_uuid(rng), flink::range_of_subtask(max_p, subtasks, s), 1234,
                        std::move(meta), std::move(sh), std::move(pr), flink::random_uuid(rng));
      op.subtasks.push_back(std::move(st));
    }
    md.operators.push_back(std::move(op));
  }
  md.properties = flink::checkpoint_properties(flink::Retention::kRetainOnCancellation);
  md.trailer = md.intern(flink::encode_properties_trailer(md.properties));
  md.trailer_state = flink::TrailerState::kParsed;
  return md;
}

ops::SnapshotInput input_named(flink::Metadata md, const char* label) {
  ops::SnapshotInput in;
  in.md = std::move(md);
  in.label = label;
  in.location = snapshot::locate(std::string("/nowhere/") + label + "/_metadata");
  return in;
}

}  // namespace ckpt::testsupport
