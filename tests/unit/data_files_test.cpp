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

TEST(DataFiles, ModelCapabilitiesAndFallbacks) {
  auto m = models_from_json(json::parse(R"({"object":"list","data":[
    {"id":"a","capabilities":["text",3,"image_input",null],"fallbacks":["b","c"]},
    {"id":"b"},
    {"id":"c","capabilities":"text","fallbacks":null}]})"));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ((*m)[0].capabilities, (std::vector<std::string>{"text", "image_input"}));  // non-strings ignored
  EXPECT_EQ((*m)[0].fallbacks, (std::vector<std::string>{"b", "c"}));
  EXPECT_TRUE((*m)[1].capabilities.empty());
  EXPECT_TRUE((*m)[1].fallbacks.empty());
  EXPECT_TRUE((*m)[2].capabilities.empty());
  EXPECT_TRUE((*m)[2].fallbacks.empty());
}

TEST(DataFiles, NonArrayFallbacksIsAnErrorNamingTheModel) {
  auto m = models_from_json(json::parse(R"({"object":"list","data":[{"id":"alias-x","fallbacks":"b"}]})"));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("'alias-x'"), std::string::npos) << m.error().message;
  EXPECT_NE(m.error().message.find("fallbacks"), std::string::npos);
  auto bad_entry = models_from_json(json::parse(R"({"object":"list","data":[{"id":"y","fallbacks":["b",1]}]})"));
  ASSERT_FALSE(bad_entry.ok());
  EXPECT_NE(bad_entry.error().message.find("'y'"), std::string::npos);
}

TEST(DataFiles, ProviderModelSkipsAndHealthSeeds) {
  auto p = providers_from_json(json::parse(R"([{"id":"p","provider_url":"https://h/v1","errors":7,
    "models":{"m1":{"capability_skips":{"audio_output":"not supported","image_input":true},
                    "avg_provider_latency":180,"avg_token_speed":62.5,"avg_response_time":null,
                    "errors":3,"consecutive_errors":2},
              "m2":{}}}])"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  const auto& prov = (*p)[0];
  EXPECT_EQ(prov.errors, 7);
  const auto& m1 = prov.models[0];
  ASSERT_EQ(m1.capability_skips.size(), 1u);  // non-string reasons are ignored
  EXPECT_EQ(m1.capability_skips.at("audio_output"), "not supported");
  EXPECT_EQ(m1.avg_provider_latency.value(), 180);
  EXPECT_EQ(m1.avg_token_speed.value(), 62.5);
  EXPECT_FALSE(m1.avg_response_time.has_value());
  EXPECT_EQ(m1.errors, 3);
  EXPECT_EQ(m1.consecutive_errors, 2);
  const auto& m2 = prov.models[1];
  EXPECT_TRUE(m2.capability_skips.empty());
  EXPECT_FALSE(m2.avg_provider_latency.has_value());
  EXPECT_EQ(m2.errors, 0);
  EXPECT_EQ(m2.consecutive_errors, 0);
}

TEST(DataFiles, HealthMarkerMeansAutoDisabledNotDisabled) {
  auto p = providers_from_json(json::parse(R"([
    {"id":"auto","provider_url":"https://h/v1","disabled":true,"disabled_by":"anygpt-health",
     "models":{"m_auto":{"disabled":true,"disabled_by":"anygpt-health"},"m_human":{"disabled":true},
               "m_on":{"disabled":false,"disabled_by":"anygpt-health"}}},
    {"id":"human","provider_url":"https://h/v1","disabled":true,"disabled_by":"alice"},
    {"id":"on","provider_url":"https://h/v1"}])"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  const auto& a = (*p)[0];
  EXPECT_FALSE(a.disabled);
  EXPECT_TRUE(a.auto_disabled);
  EXPECT_FALSE(a.models[0].disabled);
  EXPECT_TRUE(a.models[0].auto_disabled);
  EXPECT_TRUE(a.models[1].disabled);
  EXPECT_FALSE(a.models[1].auto_disabled);
  EXPECT_FALSE(a.models[2].disabled);  // a marker without "disabled": true means nothing
  EXPECT_FALSE(a.models[2].auto_disabled);
  EXPECT_TRUE((*p)[1].disabled);  // disabled by a human stays disabled
  EXPECT_FALSE((*p)[1].auto_disabled);
  EXPECT_FALSE((*p)[2].disabled);
  EXPECT_FALSE((*p)[2].auto_disabled);
}

TEST(DataFiles, ProviderProtocolDefaultsLikeTheOriginalAndNativeBasesAreFilledIn) {
  auto p = providers_from_json(json::parse(R"([
    {"id":"openai-main","provider_url":"https://api.openai.com/v1"},
    {"id":"gemini-pro-host"},
    {"id":"google","provider_url":"https://g.example/v1beta"},
    {"id":"claude","protocol":"anthropic"},
    {"id":"local","protocol":"ollama","provider_url":"http://127.0.0.1:11434"},
    {"id":"gemini-but-openai","protocol":"openai","provider_url":"https://o.example/v1"}])"));
  ASSERT_TRUE(p) << p.error().message;
  using anygpt::config::ProviderProtocol;
  ASSERT_EQ(p->size(), 6u);
  EXPECT_EQ((*p)[0].protocol, ProviderProtocol::kOpenAI);
  EXPECT_EQ((*p)[1].protocol, ProviderProtocol::kGemini);
  EXPECT_EQ((*p)[1].provider_url, "https://generativelanguage.googleapis.com/v1beta");
  EXPECT_EQ((*p)[2].protocol, ProviderProtocol::kGemini);
  EXPECT_EQ((*p)[2].provider_url, "https://g.example/v1beta");
  EXPECT_EQ((*p)[3].protocol, ProviderProtocol::kAnthropic);
  EXPECT_EQ((*p)[3].provider_url, "https://api.anthropic.com");
  EXPECT_EQ((*p)[4].protocol, ProviderProtocol::kOllama);
  EXPECT_EQ((*p)[5].protocol, ProviderProtocol::kOpenAI);
}

TEST(DataFiles, OpenAIResponsesProvidersTakeAnApiBase) {
  auto p = providers_from_json(json::parse(R"([
    {"id":"r1","protocol":"openai-responses"},
    {"id":"r2","protocol":"openai-responses","provider_url":"https://h.example/v1/chat/completions"},
    {"id":"r3","protocol":"openai-responses","provider_url":"https://h.example/v1/responses"},
    {"id":"r4","protocol":"openai-responses","provider_url":"https://h.example/openai/v1"}])"));
  ASSERT_TRUE(p) << p.error().message;
  using anygpt::config::ProviderProtocol;
  ASSERT_EQ(p->size(), 4u);
  for (const auto& provider : *p) EXPECT_EQ(provider.protocol, ProviderProtocol::kOpenAIResponses);
  EXPECT_EQ((*p)[0].provider_url, "https://api.openai.com/v1");
  EXPECT_EQ((*p)[1].provider_url, "https://h.example/v1");
  EXPECT_EQ((*p)[2].provider_url, "https://h.example/v1");
  EXPECT_EQ((*p)[3].provider_url, "https://h.example/openai/v1");
  EXPECT_STREQ(anygpt::config::protocol_name(ProviderProtocol::kOpenAIResponses), "openai-responses");
}

TEST(DataFiles, UnknownProviderProtocolIsRejectedByName) {
  auto p = providers_from_json(json::parse(R"([{"id":"x","protocol":"bedrock","provider_url":"https://h"}])"));
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("'x'"), std::string::npos);
  EXPECT_NE(p.error().message.find("bedrock"), std::string::npos);
}
