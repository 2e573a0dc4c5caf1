#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace anygpt::core {

// Transparent hash for unordered containers keyed by std::string, so lookups by string_view
// do not allocate a temporary string (use with std::equal_to<>).
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace anygpt::core
