#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "config/data_files.hpp"

using namespace anygpt::config;
namespace json = boost::json;

TEST(DataFiles, JsonErrorNamesFileLineAndColumn) {
  auto r = parse_json_document("keys.json", "{\n  \"a\": 1,\n  oops\n}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("keys.json"), std::string::npos);
  EXPECT_NE(r.error().message.find("line 3"), std::string::npos) << r.error().message;
}

TEST(DataFiles, TrailingGarbageIsAnError) {
  EXPECT_FALSE(parse_json_document("x.json", "{} x").ok());
  EXPECT_TRUE(parse_json_document("x.json", "{}\n\n").ok());
}

TEST(DataFiles, KeysRoundTripAndNormaliseLikeTheOriginal) {
  auto doc = json::parse(R"({"k1":{"userId":"alice","tokenUsage":-5,"requestCount":3,"role":"boss","note":"x"},
                             "k2":{"userId":"bob","tokenUsage":10,"requestCount":1,"role":"admin","tier":"pro"}})");
  auto keys = keys_from_json(doc);
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  const auto& a = (*keys)[0].user_id == "alice" ? (*keys)[0] : (*keys)[1];
  EXPECT_EQ(a.token_usage, 0);  // negative becomes 0
  EXPECT_EQ(a.role, "user");    // unknown role becomes user
  EXPECT_EQ(a.tier, "free");    // missing tier becomes free
  auto back = keys_to_json(*keys);
  EXPECT_EQ(back.at("k1").at("note").as_string(), "x");  // unknown fields survive
  EXPECT_EQ(back.at("k2").at("tier").as_string(), "pro");
  EXPECT_EQ(back.at("k2").at("tokenUsage").as_int64(), 10);
}

TEST(DataFiles, DefaultTiersMatchTheOriginal) {
  auto tiers = tiers_from_json(json::parse(default_tiers_json()));
  ASSERT_TRUE(tiers.ok());
  EXPECT_EQ(tiers->at("free").rps, 20);
  EXPECT_EQ(tiers->at("free").max_tokens.value(), 5000000);
  EXPECT_FALSE(tiers->at("enterprise").max_tokens.has_value());
  EXPECT_EQ(tiers->at("pro").min_provider_score.value(), 50);
}

TEST(DataFiles, ProvidersInTheOriginalFormat) {
  auto doc = json::parse(R"([{"id":"openai-main","apiKey":"sk-x","provider_url":"https://h/v1/chat/completions",
    "streamingCompatible":true,"provider_urls":{"m2":"https://alt/v1"},
    "models":{"m1":{"id":"m1","token_generation_speed":50,"response_times":[],"errors":0},
              "m2":{"id":"m2","disabled":true},"m3":{"upstream_model":"vendor/m3"}},
    "disabled":false,"avg_response_time":null,"errors":0,"provider_score":null}])");
  auto p = providers_from_json(doc);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 1u);
  EXPECT_EQ((*p)[0].api_key, "sk-x");
  EXPECT_TRUE((*p)[0].streaming_compatible);
  EXPECT_EQ((*p)[0].provider_urls.at("m2"), "https://alt/v1");
  ASSERT_EQ((*p)[0].models.size(), 3u);
  EXPECT_TRUE((*p)[0].models[1].disabled);
  EXPECT_EQ((*p)[0].models[2].upstream_model, "vendor/m3");
}

TEST(DataFiles, ProviderWithoutUrlIsRejectedByName) {
  auto p = providers_from_json(json::parse(R"([{"id":"x","models":{}}])"));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("'x'"), std::string::npos);
}

TEST(DataFiles, ModelsAndExcludedErrors) {
  auto m =
      models_from_json(json::parse(R"({"object":"list","data":[{"id":"a","created":1767225600000,"owned_by":"o"}]})"));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)[0].created, 1767225600000);
  EXPECT_FALSE(models_from_json(json::parse("[]")).ok());
  auto e = excluded_patterns_from_json(json::parse(default_excluded_errors_json()));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->front(), "429");
}
