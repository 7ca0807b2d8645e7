// How a long-running operation tells its caller how far it is, without knowing who listens (the
// CLI draws a progress line on a terminal; tests and library users pass nothing).
#pragma once

#include <cstdint>
#include <functional>

namespace ckpt::util {

// (done, total) in the operation's unit (bytes unless it says otherwise); total may grow. May be
// called often and from several threads: the listener throttles and synchronises.
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

}  // namespace ckpt::util
