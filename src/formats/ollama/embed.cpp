#include <algorithm>
#include <boost/json.hpp>
#include <vector>

#include "formats/ollama/ollama.hpp"
#include "formats/ollama/request.hpp"
#include "formats/openai/openai.hpp"

namespace anygpt::formats::ollama {
namespace json = boost::json;

namespace {

bool non_empty_string(const json::value& v) {
  return v.is_string() && !v.get_string().empty();
}

// "input": one non-empty string or a non-empty array of them (OpenAI rejects empty inputs).
core::Result<json::value> embed_input(const json::object& body) {
  const auto* v = body.if_contains("input");
  if (v && non_empty_string(*v)) return *v;
  if (!v || !v->is_array() || v->get_array().empty())
    return invalid("input must be a non-empty string or a non-empty array of strings", "input");
  const auto& arr = v->get_array();
  for (std::size_t i = 0; i < arr.size(); ++i)
    if (!non_empty_string(arr[i]))
      return invalid("input[" + std::to_string(i) + "] must be a non-empty string", "input[" + std::to_string(i) + "]");
  return *v;
}

// The canonical embeddings request for `input`.
Canonical embeddings_request(std::string model, json::value input) {
  Canonical c;
  c.op = Operation::kEmbeddings;
  c.body = json::object{{"model", model}, {"input", std::move(input)}, {"encoding_format", "float"}};
  c.model = std::move(model);
  return c;
}

// The vectors of an OpenAI embeddings list in "index" order ([] for an entry without a float array).
json::array vectors(const json::object& answer) {
  std::vector<std::pair<std::int64_t, const json::value*>> rows;
  if (const auto* data = answer.if_contains("data"); data && data->is_array()) {
    for (const auto& d : data->get_array()) {
      if (!d.is_object()) continue;
      const auto& o = d.get_object();
      const auto* index = o.if_contains("index");
      std::int64_t at = index && index->is_int64() ? index->get_int64() : static_cast<std::int64_t>(rows.size());
      rows.emplace_back(at, o.if_contains("embedding"));
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  json::array out;
  for (const auto& [at, e] : rows) out.push_back(e && e->is_array() ? *e : json::array{});
  return out;
}

class EmbedCodec final : public Codec {
 public:
  core::Result<Canonical> decode(const json::value& body, const RouteParams&) const override {
    if (!body.is_object()) return invalid("the request body must be a JSON object", "");
    const auto& o = body.get_object();
    auto model = required_model(o);
    if (!model) return model.error();
    auto input = embed_input(o);
    if (!input) return input.error();
    if (const auto* t = o.if_contains("truncate"); t && !t->is_null() && !t->is_bool())
      return invalid("truncate must be a boolean", "truncate");
    auto c = embeddings_request(std::move(*model), std::move(*input));
    if (const auto* d = o.if_contains("dimensions"); d && !d->is_null()) {
      json::error_code ec;
      auto n = d->is_number() ? d->to_number<std::int64_t>(ec) : 0;
      if (ec || n <= 0) return invalid("dimensions must be a positive integer", "dimensions");
      c.body.get_object()["dimensions"] = n;
    }
    return c;
  }
  std::string encode(const json::object& answer, const AnswerContext& ctx, const Moment& now) const override {
    json::object out{{"model", ctx.model},
                     {"embeddings", vectors(answer)},
                     {"total_duration", now.elapsed_ns},
                     {"load_duration", 0},
                     {"prompt_eval_count", openai::usage_from(answer).prompt_tokens}};
    return json::serialize(out);
  }
  std::unique_ptr<StreamEncoder> stream(const AnswerContext&) const override { return nullptr; }
};

class EmbeddingsCodec final : public Codec {
 public:
  core::Result<Canonical> decode(const json::value& body, const RouteParams&) const override {
    if (!body.is_object()) return invalid("the request body must be a JSON object", "");
    const auto& o = body.get_object();
    auto model = required_model(o);
    if (!model) return model.error();
    const auto* prompt = o.if_contains("prompt");
    if (!prompt || !non_empty_string(*prompt)) return invalid("prompt must be a non-empty string", "prompt");
    return embeddings_request(std::move(*model), *prompt);
  }
  std::string encode(const json::object& answer, const AnswerContext&, const Moment&) const override {
    auto all = vectors(answer);
    json::object out{{"embedding", all.empty() ? json::value(json::array{}) : all.front()}};
    return json::serialize(out);
  }
  std::unique_ptr<StreamEncoder> stream(const AnswerContext&) const override { return nullptr; }
};

}  // namespace

const Codec& embed_codec() {
  static const EmbedCodec kCodec;
  return kCodec;
}

const Codec& embeddings_codec() {
  static const EmbeddingsCodec kCodec;
  return kCodec;
}

}  // namespace anygpt::formats::ollama
