#include <boost/json.hpp>

#include "formats/gemini/gemini.hpp"

namespace anygpt::formats::gemini {
namespace json = boost::json;

namespace {

// The catalogue knows no per-model limits: conservative figures every served model meets, so a client
// budgeting its context from them does not overrun a smaller upstream.
constexpr std::int64_t kInputTokenLimit = 131072;
constexpr std::int64_t kOutputTokenLimit = 8192;

json::object model_object(const common::ModelInfo& model) {
  std::string id(strip_model_prefix(model.id));
  std::string description = id + " served by anygpt";
  if (!model.owned_by.empty()) description += " (owned by " + std::string(model.owned_by) + ")";
  json::array methods{"generateContent", "streamGenerateContent", "countTokens", "embedContent", "batchEmbedContents"};
  return json::object{{"name", "models/" + id},
                      {"baseModelId", id},
                      {"version", "001"},
                      {"displayName", id},
                      {"description", std::move(description)},
                      {"inputTokenLimit", kInputTokenLimit},
                      {"outputTokenLimit", kOutputTokenLimit},
                      {"supportedGenerationMethods", std::move(methods)}};
}

}  // namespace

std::string models_body(const std::vector<common::ModelInfo>& models) {
  json::array list;
  for (const auto& m : models) list.push_back(model_object(m));
  return json::serialize(json::object{{"models", std::move(list)}});
}

std::string model_body(const common::ModelInfo& model) {
  return json::serialize(model_object(model));
}

}  // namespace anygpt::formats::gemini
