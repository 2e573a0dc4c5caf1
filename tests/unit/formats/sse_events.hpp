// Test helpers the wire-format tests share: fixtures, and `event:` + `data:` SSE text (Anthropic
// Messages, the Responses API) split into its events.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace anygpt::format_tests {

// tests/unit/formats/fixtures/<dir>/<name>, parsed.
inline boost::json::value fixture(std::string_view dir, std::string_view name) {
  std::string path(ANYGPT_FIXTURES_DIR);
  path += '/';
  path += dir;
  path += '/';
  path += name;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return boost::json::parse(ss.str());
}

struct SseEvent {
  std::string type;
  boost::json::value data;
};

// Splits SSE text into "event: <type>\ndata: <json>\n\n" blocks; each data payload must be
// strict JSON (valid UTF-8) and, when it has a "type", name the event's type.
inline std::vector<SseEvent> sse_events(const std::string& sse) {
  std::vector<SseEvent> out;
  std::size_t pos = 0;
  while (pos < sse.size()) {
    auto end = sse.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated event: " << sse.substr(pos);
    if (end == std::string::npos) break;
    std::string block = sse.substr(pos, end - pos);
    pos = end + 2;
    EXPECT_EQ(block.rfind("event: ", 0), 0u) << block;
    auto nl = block.find('\n');
    EXPECT_EQ(block.substr(nl + 1, 6), "data: ") << block;
    SseEvent e{block.substr(7, nl - 7), nullptr};
    boost::json::error_code ec;
    e.data = boost::json::parse(block.substr(nl + 7), ec);
    EXPECT_FALSE(ec) << "bad JSON in event: " << block;
    const auto* type = !ec && e.data.is_object() ? e.data.as_object().if_contains("type") : nullptr;
    if (type && type->is_string()) {
      EXPECT_EQ(type->as_string(), e.type);
    }
    out.push_back(std::move(e));
  }
  return out;
}

inline std::vector<std::string> sse_types(const std::vector<SseEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type);
  return out;
}

}  // namespace anygpt::format_tests
