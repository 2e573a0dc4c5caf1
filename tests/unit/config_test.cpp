#include <gtest/gtest.h>

#include "config/config.hpp"

using namespace anygpt::config;

namespace {
EnvLookup env_of(std::map<std::string, std::string> m) {
  return [m](std::string_view k) -> std::optional<std::string> {
    auto it = m.find(std::string(k));
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}
}  // namespace

TEST(Config, DefaultsWhenNothingIsSet) {
  auto c = load_config(env_of({}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->port, 3000);
  EXPECT_EQ(c->data_source, DataSource::kFilesystem);
  EXPECT_EQ(c->upstream_timeout_ms, 120000);
  EXPECT_TRUE(c->enable_openai_routes);
}

TEST(Config, NonNumericPortStopsTheStartNamingTheVariable) {
  auto c = load_config(env_of({{"PORT", "abc"}}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("PORT"), std::string::npos);
}

TEST(Config, OutOfRangePortIsRejected) {
  auto c = load_config(env_of({{"PORT", "70000"}}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("out of range"), std::string::npos);
}

TEST(Config, UnknownDataSourceIsRejected) {
  auto c = load_config(env_of({{"DATA_SOURCE_PREFERENCE", "mongo"}}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("DATA_SOURCE_PREFERENCE"), std::string::npos);
}

TEST(Config, BooleansAcceptTrueFalseOneZero) {
  auto c = load_config(env_of({{"ENABLE_ADMIN_ROUTES", "0"}, {"ENABLE_OPENAI_ROUTES", "true"}}));
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->enable_admin_routes);
  EXPECT_TRUE(c->enable_openai_routes);
  EXPECT_FALSE(load_config(env_of({{"ENABLE_ADMIN_ROUTES", "maybe"}})).ok());
}

TEST(Config, DotenvParsesQuotesCommentsAndExport) {
  auto m = parse_dotenv("# comment\nPORT=4000\nexport HOST=\"127.0.0.1\"\nA='x y' \nB=v # trailing\n\nbroken line\n");
  EXPECT_EQ(m["PORT"], "4000");
  EXPECT_EQ(m["HOST"], "127.0.0.1");
  EXPECT_EQ(m["A"], "x y");
  EXPECT_EQ(m["B"], "v");
  EXPECT_EQ(m.count("broken line"), 0u);
}

TEST(Config, HelpListsEveryVariableWithDefault) {
  auto h = help_text();
  for (const char* name : {"PORT", "HOST", "LOG_LEVEL", "UPSTREAM_TIMEOUT_MS", "DATA_DIR", "DATA_SOURCE_PREFERENCE",
                           "DEFAULT_ADMIN_USER_ID", "DEFAULT_ADMIN_API_KEY", "CORS_ORIGIN", "ENABLE_OPENAI_ROUTES"})
    EXPECT_NE(h.find(name), std::string::npos) << name;
  EXPECT_NE(h.find("(default: 3000)"), std::string::npos);
}
