#include "mock/embeddings.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <cstring>
#include <optional>

#include "core/base64.hpp"
#include "mock/json_text.hpp"
#include "mock/openai_errors.hpp"

namespace anygpt::mock {
namespace json = boost::json;
using core::ErrorKind;

namespace {

bool is_token_array(const json::value& v) {
  if (!v.is_array() || v.get_array().empty()) return false;
  for (const auto& t : v.get_array())
    if (!t.is_int64() && !t.is_uint64()) return false;
  return true;
}

std::string token_key(const json::array& tokens) {
  std::string key = "tokens:";
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (i) key += ',';
    append_int(key, tokens[i].to_number<std::int64_t>());
  }
  return key;
}

std::optional<core::Error> read_input(const json::value& input, EmbeddingPlan& plan) {
  const char* kShape = "input must be a string, an array of strings or an array of token arrays";
  if (input.is_string()) {
    plan.inputs.emplace_back(input.get_string());
    plan.prompt_tokens += estimate_tokens(utf8_length(plan.inputs.back()));
    return std::nullopt;
  }
  if (!input.is_array() || input.get_array().empty()) return invalid_request(kShape, "input");
  if (is_token_array(input)) {
    plan.inputs.push_back(token_key(input.get_array()));
    plan.prompt_tokens += static_cast<std::int64_t>(input.get_array().size());
    return std::nullopt;
  }
  for (const auto& item : input.get_array()) {
    if (item.is_string()) {
      plan.inputs.emplace_back(item.get_string());
      plan.prompt_tokens += estimate_tokens(utf8_length(plan.inputs.back()));
    } else if (is_token_array(item)) {
      plan.inputs.push_back(token_key(item.get_array()));
      plan.prompt_tokens += static_cast<std::int64_t>(item.get_array().size());
    } else {
      return invalid_request(kShape, "input");
    }
  }
  return std::nullopt;
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

core::Result<EmbeddingPlan> plan_embeddings(std::string_view body) {
  boost::system::error_code ec;
  auto doc = json::parse(json::string_view(body.data(), body.size()), ec);
  if (ec) return core::make_error(ErrorKind::kInvalidRequest, "We could not parse the JSON body of your request.");
  if (!doc.is_object()) return invalid_request("The request body must be a JSON object", {});
  const auto& o = doc.get_object();
  EmbeddingPlan plan;
  const auto* model = o.if_contains("model");
  if (!model || !model->is_string()) return invalid_request("you must provide a model parameter", "model");
  plan.model = std::string(model->get_string());
  const auto* input = o.if_contains("input");
  if (!input) return invalid_request("Missing required parameter: 'input'.", "input");
  if (auto err = read_input(*input, plan)) return *err;
  if (const auto* fmt = o.if_contains("encoding_format"); fmt && !fmt->is_null()) {
    if (fmt->is_string() && fmt->get_string() == "base64") {
      plan.base64 = true;
    } else if (!fmt->is_string() || fmt->get_string() != "float") {
      return invalid_request("encoding_format must be 'float' or 'base64'", "encoding_format");
    }
  }
  if (const auto* dims = o.if_contains("dimensions"); dims && !dims->is_null()) {
    double d = dims->is_number() ? dims->to_number<double>() : 0;
    if (std::floor(d) != d || d < 1 || d > 4096)
      return invalid_request("dimensions must be an integer between 1 and 4096", "dimensions");
    plan.dimensions = static_cast<int>(d);
  }
  return plan;
}

std::vector<float> embed(std::string_view text, int dimensions) {
  std::uint64_t state = fnv1a(text);
  std::vector<float> v(static_cast<std::size_t>(dimensions));
  double norm = 0;
  for (auto& x : v) {
    // 24 random bits -> [-1, 1)
    x = static_cast<float>(static_cast<double>(splitmix64(state) >> 40) / 8388608.0 - 1.0);
    norm += static_cast<double>(x) * x;
  }
  norm = std::sqrt(norm);
  if (norm > 0)
    for (auto& x : v) x = static_cast<float>(x / norm);
  return v;
}

std::string embeddings_body(const EmbeddingPlan& plan) {
  std::string out = "{\"object\":\"list\",\"data\":[";
  out.reserve(96 + plan.inputs.size() * (64 + static_cast<std::size_t>(plan.dimensions) * 14));
  for (std::size_t i = 0; i < plan.inputs.size(); ++i) {
    if (i) out += ',';
    out += "{\"object\":\"embedding\",\"index\":";
    append_int(out, static_cast<std::int64_t>(i));
    out += ",\"embedding\":";
    auto vec = embed(plan.inputs[i], plan.dimensions);
    if (plan.base64) {
      out += '"';
      out += core::float32_le_base64(vec);
      out += '"';
    } else {
      out += '[';
      for (std::size_t k = 0; k < vec.size(); ++k) {
        if (k) out += ',';
        append_double(out, static_cast<double>(vec[k]));
      }
      out += ']';
    }
    out += '}';
  }
  out += "],\"model\":";
  append_json_string(out, plan.model);
  out += ",\"usage\":{\"prompt_tokens\":";
  append_int(out, plan.prompt_tokens);
  out += ",\"total_tokens\":";
  append_int(out, plan.prompt_tokens);
  out += "}}";
  return out;
}

}  // namespace anygpt::mock
