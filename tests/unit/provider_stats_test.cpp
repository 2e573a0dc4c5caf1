#include "routing/provider_stats.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "config/data_files.hpp"

using namespace anygpt::routing;
namespace json = boost::json;

namespace {

json::value sample_doc() {
  return json::parse(R"([
    {"id":"p1","apiKey":"sk-secret","provider_url":"https://h/v1/chat/completions","custom":{"x":1},
     "models":{
       "m1":{"id":"m1","token_generation_speed":50,"capability_skips":{"audio_output":"not supported"},
             "response_times":[{"timestamp":1,"response_time":5,"input_tokens":1,"output_tokens":1,
                                "tokens_generated":2,"provider_latency":null,"apiKey":"user-key-leak"}],
             "errors":0,"consecutive_errors":0},
       "m2":{"id":"m2","errors":4}},
     "disabled":false,"avg_response_time":null,"errors":0,"provider_score":null},
    {"id":"p2","apiKey":"sk-other","provider_url":"https://h2/v1","models":{"m1":{"id":"m1"}},"errors":9}
  ])");
}

ModelStats m1_stats() {
  ModelStats m;
  m.model_id = "m1";
  m.samples.push_back({1767225600000, 820.456, 12, 40, 180.0, 62.5});
  m.samples.push_back({1767225601000, 900, 10, 30, std::nullopt, std::nullopt});
  m.errors = 1;
  m.consecutive_errors = 0;
  m.avg_response_time = 860.228;
  m.avg_provider_latency = 180;
  m.avg_token_speed = 62.5;
  return m;
}

ProviderStats p1_stats() {
  ProviderStats p;
  p.provider_id = "p1";
  p.models.push_back(m1_stats());
  p.avg_response_time = 860.228;
  p.avg_provider_latency = 180;
  p.errors = 1;
  p.score = 79.6;
  return p;
}

std::vector<std::string> keys_of(const json::object& o) {
  std::vector<std::string> out;
  for (const auto& kv : o) out.emplace_back(kv.key());
  return out;
}

}  // namespace

TEST(ProviderStats, WritesTheOriginalFieldsRounded) {
  auto doc = sample_doc();
  ASSERT_TRUE(apply_stats(doc, {p1_stats()}));
  const auto& p = doc.at(0).as_object();
  EXPECT_EQ(p.at("avg_response_time"), json::value(860.23));
  EXPECT_EQ(p.at("avg_provider_latency"), json::value(180));  // integral values stay integers
  EXPECT_EQ(p.at("errors"), json::value(1));
  EXPECT_EQ(p.at("provider_score"), json::value(80));
  const auto& m = p.at("models").at("m1").as_object();
  EXPECT_EQ(m.at("errors"), json::value(1));
  EXPECT_EQ(m.at("consecutive_errors"), json::value(0));
  EXPECT_EQ(m.at("avg_response_time"), json::value(860.23));
  EXPECT_EQ(m.at("avg_token_speed"), json::value(62.5));
  EXPECT_EQ(m.at("token_generation_speed"), json::value(62.5));
  EXPECT_EQ(m.at("capability_skips").at("audio_output"), json::value("not supported"));
  const auto& rt = m.at("response_times").as_array();
  ASSERT_EQ(rt.size(), 2u);
  EXPECT_EQ(rt[0], json::parse(R"({"timestamp":1767225600000,"response_time":820.46,"input_tokens":12,
    "output_tokens":40,"tokens_generated":52,"provider_latency":180,"observed_speed_tps":62.5})"));
  EXPECT_TRUE(rt[1].at("provider_latency").is_null());
  EXPECT_TRUE(rt[1].at("observed_speed_tps").is_null());
  EXPECT_EQ(rt[1].at("tokens_generated"), json::value(40));
}

TEST(ProviderStats, ResponseTimesNeverCarryAnApiKey) {
  auto doc = sample_doc();
  ASSERT_TRUE(apply_stats(doc, {p1_stats()}));
  for (const auto& e : doc.at(0).at("models").at("m1").at("response_times").as_array())
    EXPECT_FALSE(e.as_object().contains("apiKey")) << json::serialize(e);
  EXPECT_EQ(json::serialize(doc).find("user-key-leak"), std::string::npos);
}

TEST(ProviderStats, OtherFieldsOrderAndEntriesWithoutStatsAreUntouched) {
  auto doc = sample_doc();
  auto before = sample_doc();
  ASSERT_TRUE(apply_stats(doc, {p1_stats()}));
  const auto& p = doc.at(0).as_object();
  EXPECT_EQ(p.at("apiKey"), json::value("sk-secret"));
  EXPECT_EQ(p.at("provider_url"), before.at(0).at("provider_url"));
  EXPECT_EQ(p.at("custom"), before.at(0).at("custom"));
  auto keys = keys_of(p);
  auto old_keys = keys_of(before.at(0).as_object());
  ASSERT_GE(keys.size(), old_keys.size());
  EXPECT_EQ(std::vector<std::string>(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(old_keys.size())),
            old_keys);
  EXPECT_EQ(p.at("models").at("m2"), before.at(0).at("models").at("m2"));  // no ModelStats for m2
  EXPECT_EQ(doc.at(1), before.at(1));                                      // no ProviderStats for p2
}

TEST(ProviderStats, UnchangedStatsReportNoChange) {
  auto doc = sample_doc();
  ASSERT_TRUE(apply_stats(doc, {p1_stats()}));
  EXPECT_FALSE(apply_stats(doc, {p1_stats()}));
  // Also after a trip through the file's text form.
  auto reread = json::parse(json::serialize(doc));
  EXPECT_FALSE(apply_stats(reread, {p1_stats()}));
  EXPECT_FALSE(apply_stats(doc, {}));
}

TEST(ProviderStats, NullAveragesAndScoreAreWrittenAsNull) {
  auto doc = sample_doc();
  ProviderStats p;
  p.provider_id = "p2";
  ModelStats m;
  m.model_id = "m1";
  p.models.push_back(m);
  ASSERT_TRUE(apply_stats(doc, {p}));
  const auto& o = doc.at(1).as_object();
  EXPECT_TRUE(o.at("avg_response_time").is_null());
  EXPECT_TRUE(o.at("provider_score").is_null());
  EXPECT_EQ(o.at("errors"), json::value(0));
  const auto& mo = o.at("models").at("m1").as_object();
  EXPECT_TRUE(mo.at("avg_token_speed").is_null());
  EXPECT_FALSE(mo.contains("token_generation_speed"));  // only set from a known speed
  EXPECT_TRUE(mo.at("response_times").as_array().empty());
}

TEST(ProviderStats, AutoDisableRoundTripsThroughTheParser) {
  auto doc = sample_doc();
  auto stats = p1_stats();
  stats.disabled = true;
  stats.models[0].disabled = true;
  ASSERT_TRUE(apply_stats(doc, {stats}));
  EXPECT_EQ(doc.at(0).at("disabled"), json::value(true));
  EXPECT_EQ(doc.at(0).at("disabled_by"), json::value("anygpt-health"));
  auto parsed = anygpt::config::providers_from_json(doc);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_FALSE((*parsed)[0].disabled);
  EXPECT_TRUE((*parsed)[0].auto_disabled);
  EXPECT_EQ((*parsed)[0].api_key, "sk-secret");
  EXPECT_FALSE((*parsed)[0].models[0].disabled);
  EXPECT_TRUE((*parsed)[0].models[0].auto_disabled);
  EXPECT_EQ((*parsed)[0].models[0].errors, 1);
  EXPECT_EQ((*parsed)[0].models[0].avg_token_speed.value(), 62.5);

  // The circuit closes: the marker goes and the entry is enabled again.
  stats.disabled = false;
  stats.models[0].disabled = false;
  ASSERT_TRUE(apply_stats(doc, {stats}));
  EXPECT_EQ(doc.at(0).at("disabled"), json::value(false));
  EXPECT_FALSE(doc.at(0).as_object().contains("disabled_by"));
  EXPECT_FALSE(doc.at(0).at("models").at("m1").as_object().contains("disabled_by"));
  parsed = anygpt::config::providers_from_json(doc);
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE((*parsed)[0].auto_disabled);
  EXPECT_FALSE((*parsed)[0].models[0].auto_disabled);
  EXPECT_FALSE(apply_stats(doc, {stats}));
}

TEST(ProviderStats, HumanDisabledEntriesAreNeverTouched) {
  auto doc = json::parse(R"([{"id":"p1","provider_url":"u","disabled":true,
    "models":{"m1":{"id":"m1","disabled":true,"disabled_by":"ops"}}}])");
  auto stats = p1_stats();
  stats.disabled = true;
  stats.models[0].disabled = true;
  apply_stats(doc, {stats});
  EXPECT_EQ(doc.at(0).at("disabled"), json::value(true));
  EXPECT_FALSE(doc.at(0).as_object().contains("disabled_by"));
  EXPECT_EQ(doc.at(0).at("models").at("m1").at("disabled_by"), json::value("ops"));
  stats.disabled = false;
  stats.models[0].disabled = false;
  apply_stats(doc, {stats});
  EXPECT_EQ(doc.at(0).at("disabled"), json::value(true));  // a closed circuit does not undo a human
  EXPECT_EQ(doc.at(0).at("models").at("m1").at("disabled"), json::value(true));
  auto parsed = anygpt::config::providers_from_json(doc);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE((*parsed)[0].disabled);
  EXPECT_FALSE((*parsed)[0].auto_disabled);
}

TEST(ProviderStats, NonArrayDocumentIsLeftAlone) {
  json::value doc = json::parse(R"({"id":"p1"})");
  EXPECT_FALSE(apply_stats(doc, {p1_stats()}));
  EXPECT_EQ(doc, json::parse(R"({"id":"p1"})"));
}
