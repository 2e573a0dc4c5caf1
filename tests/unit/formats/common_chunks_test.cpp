#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "formats/common/chunks.hpp"

using namespace anygpt::formats::common;
namespace json = boost::json;

namespace {

json::object chunk(std::string_view text) {
  return json::parse(text).as_object();
}

TEST(AppendDeltaText, TakesTheFirstChoicesContentAndTellsToolCallsAndFinishes) {
  std::string text = "Hel";
  auto marks = append_delta_text(chunk(R"({"choices":[{"delta":{"content":"lo"}},{"delta":{"content":"x"}}]})"), text);
  EXPECT_EQ(text, "Hello") << "choice 0 only";
  EXPECT_FALSE(marks.tool_call);
  EXPECT_FALSE(marks.finish);
  marks =
      append_delta_text(chunk(R"({"choices":[{"delta":{"tool_calls":[{"index":0}]},"finish_reason":null}]})"), text);
  EXPECT_TRUE(marks.tool_call);
  EXPECT_FALSE(marks.finish) << "a null finish_reason is none";
  marks = append_delta_text(chunk(R"({"choices":[{"delta":{},"finish_reason":"stop"}]})"), text);
  EXPECT_TRUE(marks.finish);
  EXPECT_EQ(text, "Hello");
  EXPECT_FALSE(append_delta_text(chunk(R"({"choices":[],"usage":{"total_tokens":1}})"), text).finish);
}

TEST(DropLeading, DropsOnlyWhatTheContentSharesWithTheOverlap) {
  auto c = chunk(R"({"choices":[{"delta":{"content":" \nam"}}]})");
  EXPECT_EQ(drop_leading(c, " \n\n"), 2u);
  EXPECT_EQ(c.at("choices").at(0).at("delta").at("content").as_string(), "am");
  auto other = chunk(R"({"choices":[{"delta":{"content":"am"}}]})");
  EXPECT_EQ(drop_leading(other, " "), 0u);
  EXPECT_EQ(other.at("choices").at(0).at("delta").at("content").as_string(), "am");
  auto role = chunk(R"({"choices":[{"delta":{"role":"assistant"}}]})");
  EXPECT_EQ(drop_leading(role, " "), 0u);
}

}  // namespace
