#pragma once

#include <cstdint>

namespace anygpt::core {

// Token counts of one completion as reported by the upstream.
struct Usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
  bool present = false;  // the upstream reported usage at all
};

}  // namespace anygpt::core
