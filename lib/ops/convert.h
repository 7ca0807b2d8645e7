// `ckpt convert`: editing a snapshot's model without losing anything, and making a snapshot
// self-contained. Every function here works on a private copy of the model; the input files are
// only read. The CLI renders results and writes outputs (atomically, see io/atomic_file.h and
// io/copy_or_link.h).
//
//  * relocate():         rewrites absolute paths (tags 2 and 15, tag-17 directories) at any depth,
//                        `shared/` and nested changelog handles included.
//  * anchor_relative():  the §11.3 rule (FLINK-39964) for a `_metadata` written into another
//                        directory: a tag-6 handle stays relative only if its file is
//                        <output dir>/<relative path>; otherwise it becomes tag 2 with its
//                        absolute `file:` path, so the written file still names the same bytes.
//  * change_version():   rewrites the format version when no field is lost, else ConvertError
//                        naming every loss.
//  * plan_self_contained() / write_self_contained(): a checkpoint (incremental or not, file
//                        merging included) turned into a relocatable savepoint-style directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "flink/model.h"
#include "io/confined_open.h"
#include "snapshot/discovery.h"
#include "snapshot/file_refs.h"
#include "snapshot/paths.h"
#include "util/error.h"
#include "util/progress.h"

namespace ckpt::ops {

// A conversion that cannot be done without losing or inventing information, or whose inputs are
// not usable (missing files, remote files without a mapping). what() is one line, or several
// lines "  - <reason>" after a first summary line when there are many reasons.
class ConvertError : public util::Error {
 public:
  explicit ConvertError(const std::string& message) : util::Error(util::ErrorKind::kProblems, message) {}
};

// ---- relocation ------------------------------------------------------------------------------

struct Relocation {
  std::string from;  // a path prefix as Flink writes it: "s3://bucket/ckpt", "hdfs://nn/x", "/mnt/a"
  std::string to;
};

// Parses "FROM=TO" (split at the first '=' followed by a scheme or '/': URIs may hold '=' later).
// Trailing slashes are dropped. nullopt when either side is empty.
std::optional<Relocation> parse_relocation(std::string_view spec);

// The rewritten path, or nullopt when no relocation applies. The longest matching FROM wins; a
// prefix matches at a path-component boundary only. A FROM without a scheme ("/mnt/a") also
// matches the local forms "file:/mnt/a", "file:///mnt/a" and "file://localhost/mnt/a"; the
// result keeps the path's own scheme prefix unless TO brings one.
std::optional<std::string> relocate_path(std::string_view flink_path, const std::vector<Relocation>& relocations);

struct RelocateStats {
  int handles = 0;      // absolute handle paths rewritten (tags 2, 15)
  int directories = 0;  // tag-17 task-owned / shared directories rewritten
  int untouched = 0;    // absolute handle paths no relocation matched
};

RelocateStats relocate(flink::Metadata& md, const std::vector<Relocation>& relocations);

struct AnchorStats {
  int kept_relative = 0;
  int made_absolute = 0;
};

// `source_dir`: where the tag-6 handles resolve today; `output_dir`: where the file is written.
// The handles' absolute paths are relocated first, so "--relocate OLD=NEW" with an output under
// NEW keeps them relative.
AnchorStats anchor_relative(flink::Metadata& md, const std::filesystem::path& source_dir,
                            const std::filesystem::path& output_dir, const std::vector<Relocation>& relocations);

// ---- format version --------------------------------------------------------------------------

// What to write as the V4+ properties trailer when a V1-V3 file (which has none) is upgraded.
enum class PropertiesChoice { kFromDirectory, kCheckpoint, kSavepoint, kNull };

struct VersionChange {
  int32_t from = 0;
  int32_t to = 0;
  std::vector<std::string> notes;  // what was derived or re-encoded (e.g. a synthesized trailer)
};

// Sets md.version to `to`. Refuses (ConvertError listing every reason) when a field would be lost:
// V5+ operator names/uids going below 5, merged channel handles going below 6, V7 reference
// markers going below 7, a properties trailer going below 4, V2 legacy fields going above 2,
// V3+ state (coordinators, channels, finished markers) going to 2, and anything about version 1.
// Going from V1-V3 to V4+ needs a trailer Flink did not write: it is synthesized from `choice`
// (kFromDirectory: a checkpoint for chk-N directories, RETAIN_ON_CANCELLATION as retained
// checkpoints on disk normally are; a savepoint for savepoint-* directories; else refused) and
// reported in notes. Finally the writer must accept the result (its WriteError becomes a
// ConvertError).
VersionChange change_version(flink::Metadata& md, int32_t to, PropertiesChoice choice,
                             std::optional<snapshot::DirKind> dir_kind);

// The savepoint properties for a model's handles: NATIVE unless every keyed handle is a
// canonical savepoint handle (tag 7) or there is no keyed state.
flink::CheckpointProperties savepoint_properties_for(const flink::Metadata& md);

// ---- self-contained savepoint directory ------------------------------------------------------

struct PlannedFile {
  std::string name;              // file name inside the output directory
  std::filesystem::path source;  // local file the bytes come from
  uint64_t offset = 0;           // byte range of the source
  uint64_t length = 0;
  bool whole = true;     // the whole source (may be hard-linked); false: a cut segment
  std::string original;  // the handle path as written in the input (UTF-8)
  snapshot::PathForm form = snapshot::PathForm::kRelative;
  int handles = 0;  // handles that now point at this file
};

struct SelfContainedPlan {
  flink::Metadata md;              // the rewritten model
  std::string metadata;            // its `_metadata` bytes
  std::vector<PlannedFile> files;  // in first-reference order; names unique
  uint64_t total_bytes = 0;
  int relative_before = 0, absolute_before = 0, segments_before = 0;
  std::vector<std::string> notes;  // properties change, renamed files, converted tag-17 handles
  std::filesystem::path source_dir;
  io::ReadScope scope;  // where the sources may be read from (snapshot/read_scope.h)
};

struct SelfContainOptions {
  std::vector<snapshot::PathMapping> mappings;       // remote prefixes mirrored locally (--map)
  std::vector<std::filesystem::path> allow_outside;  // more directories sources may lie in (--allow-outside)
};

// Pure apart from opening the sources (io/confined_open.h). Refuses with io::OutsideScopeError
// (one line per such file; the CLI exits 2) when a source lies outside the snapshot's root, the
// mappings' directories and `allow_outside`, or is reached through a symlinked directory; else
// (ConvertError, every reason listed) when a file is missing, not a regular file, of a size other
// than recorded, remote without a mapping, or when a relative handle escapes the snapshot
// directory with `..`.
SelfContainedPlan plan_self_contained(const flink::Metadata& md, const snapshot::Location& loc,
                                      const SelfContainOptions& options);

struct WriteStats {
  int linked = 0, copied = 0, cut = 0;
  uint64_t bytes = 0;
};

// Builds the directory beside `out` under a temporary name (hard links where allowed unless
// `copy`, else copies; segments are always copied; every source opened again through
// plan.scope), fsyncs, checks it with check_self_contained,
// then renames it to `out`. Refuses (io::IoError: a usage problem, not a property of the input) an
// existing `out` without `replace`, with `replace` an existing `out` that is not a snapshot
// directory, and an `out` inside the source snapshot directory or holding one of the sources.
// `progress` (may be empty) hears (bytes placed, bytes of all files), once per file.
WriteStats write_self_contained(const SelfContainedPlan& plan, const std::filesystem::path& out, bool replace,
                                bool copy, const util::ProgressFn& progress = {});

// The invariant of a self-contained directory, checked before it is published: `_metadata`
// parses, every file-backed handle is relative (tag 6), resolves inside `dir` without `..`, names
// an existing regular file (not a symlink) whose size equals the recorded size. Returns the
// problems (empty: fine). This is narrower than ops::validate (which the tests run on every
// output as well): it states what "self-contained" means, nothing about restorability.
std::vector<std::string> check_self_contained(const std::filesystem::path& dir);

// Refuses (io::IoError) an output directory that would modify an input: inside the snapshot
// directory or containing it or one of the planned sources.
void check_output_location(const SelfContainedPlan& plan, const std::filesystem::path& out);

}  // namespace ckpt::ops
