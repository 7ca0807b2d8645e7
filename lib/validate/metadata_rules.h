// Rules S01-S12 and K12-K22 (spec §19.1, §19.2): what one `_metadata` file says about itself.
//
// The reader (flink/metadata_reader.h) already refuses what it cannot represent: its first error
// is mapped to the structural rule it violates by structural_rule_of(). check_metadata() then
// applies the rules that a parsed model can still break. Neither touches the file system.
#pragma once

#include <string_view>

#include "flink/model.h"
#include "snapshot/discovery.h"
#include "validate/findings.h"

namespace ckpt::validate {

// The S rule a MetadataError message (reader's one-line form) violates; "S04" (counts, lengths,
// truncation) when nothing more specific matches.
std::string_view structural_rule_of(std::string_view reader_message);

// All S and K rules on a parsed model. `loc` supplies the directory name for K22.
void check_metadata(const flink::Metadata& md, const snapshot::Location& loc, Findings& out);

}  // namespace ckpt::validate
