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

TEST(Config, ImageFetchDefaultsAreOffWithTheOriginalsLimits) {
  auto c = load_config(env_of({}));
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->image_fetch_inline);
  EXPECT_EQ(c->image_fetch_timeout_ms, 15000);
  EXPECT_EQ(c->image_fetch_max_bytes, 8 * 1024 * 1024);
  EXPECT_EQ(c->image_fetch_max_redirects, 3);
  EXPECT_FALSE(c->image_fetch_allow_private);
  EXPECT_FALSE(c->image_fetch_forward_auth);
  EXPECT_EQ(c->image_fetch_allowed_protocols, (std::vector<std::string>{"http", "https"}));
  EXPECT_TRUE(c->image_fetch_allowed_hosts.empty());
  EXPECT_EQ(c->image_fetch_max_images, 8);
  EXPECT_EQ(c->image_fetch_max_concurrency, 16);
  EXPECT_FALSE(c->image_fetch_keep_failed);
  EXPECT_NE(help_text().find("IMAGE_FETCH_INLINE"), std::string::npos);
}

TEST(Config, ImageFetchListsAreTrimmedAndLowerCased) {
  auto c = load_config(env_of({{"IMAGE_FETCH_ALLOWED_PROTOCOLS", " HTTPS: , "},
                               {"IMAGE_FETCH_ALLOWED_HOSTS", ".CDN.test, images.example.com,"},
                               {"IMAGE_FETCH_ON_FAILURE", "keep"},
                               {"IMAGE_FETCH_AUTH_HEADER", "X-Image-Token"}}));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->image_fetch_allowed_protocols, (std::vector<std::string>{"https"}));
  EXPECT_EQ(c->image_fetch_allowed_hosts, (std::vector<std::string>{".cdn.test", "images.example.com"}));
  EXPECT_TRUE(c->image_fetch_keep_failed);
  EXPECT_EQ(c->image_fetch_auth_header, "x-image-token");
}

TEST(Config, MalformedImageFetchValuesStopTheStartNamingTheVariable) {
  const std::pair<const char*, const char*> bad[] = {
      {"IMAGE_FETCH_ALLOWED_PROTOCOLS", "http,ftp"},
      {"IMAGE_FETCH_ALLOWED_PROTOCOLS", " , "},
      {"IMAGE_FETCH_ALLOWED_HOSTS", "*.example.com"},
      {"IMAGE_FETCH_ALLOWED_HOSTS", "https://example.com/"},
      {"IMAGE_FETCH_AUTH_HEADER", "Authorization"},
      {"IMAGE_FETCH_AUTH_HEADER", "x-api-key"},
      {"IMAGE_FETCH_AUTH_HEADER", "bad header"},
      {"IMAGE_FETCH_ON_FAILURE", "drop"},
      {"IMAGE_FETCH_REFERER", "ftp://example.com"},
      {"IMAGE_FETCH_USER_AGENT", "a\r\nX-Evil: 1"},
      {"IMAGE_FETCH_MAX_BYTES", "0"},
      {"IMAGE_FETCH_INLINE", "sometimes"},
  };
  for (const auto& [name, value] : bad) {
    auto c = load_config(env_of({{name, value}}));
    ASSERT_FALSE(c.ok()) << name << "=" << value;
    EXPECT_EQ(c.error().message.rfind(name, 0), 0u) << c.error().message;
  }
}
