#include <algorithm>
#include <boost/json.hpp>
#include <memory>
#include <utility>
#include <vector>

#include "formats/gemini/gemini.hpp"
#include "formats/gemini/request.hpp"

namespace anygpt::formats::gemini {
namespace json = boost::json;

namespace {

core::Result<std::string_view> route_model(const RouteParams& route) {
  std::string_view name = strip_model_prefix(route.model);
  if (name.empty()) return invalid("the model name in the path is empty", "model");
  return name;
}

// outputDimensionality of an EmbedContentRequest (0 when unset); `prefix` is its path ("" at the top).
core::Result<std::int64_t> dimensions(const json::object& request, const std::string& prefix) {
  const auto* v = request.if_contains("outputDimensionality");
  if (!v || v->is_null()) return std::int64_t{0};
  std::string param = prefix + "outputDimensionality";
  json::error_code ec;
  std::int64_t n = v->is_number() ? v->to_number<std::int64_t>(ec) : 0;
  if (ec || n <= 0) return invalid(param + " must be a positive integer", param);
  return n;
}

core::Result<std::string> embed_text(const json::object& request, const std::string& prefix) {
  const auto* content = request.if_contains("content");
  std::string path = prefix + "content";
  if (!content || content->is_null()) return invalid(path + " is required", path);
  return content_text(*content, path, "\n");
}

Canonical embeddings_request(json::value input, std::string_view model, std::int64_t dimensions) {
  json::object body{{"model", model}, {"input", std::move(input)}, {"encoding_format", "float"}};
  if (dimensions > 0) body["dimensions"] = dimensions;
  Canonical canonical;
  canonical.op = Operation::kEmbeddings;
  canonical.body = std::move(body);
  canonical.model = std::string(model);
  return canonical;
}

// The vectors of an OpenAI embeddings list, in "index" order ([] for an entry without one).
std::vector<json::value> vectors(const json::object& answer) {
  std::vector<std::pair<std::int64_t, json::value>> found;
  if (const auto* data = answer.if_contains("data"); data && data->is_array()) {
    const auto& list = data->get_array();
    for (std::size_t k = 0; k < list.size(); ++k) {
      if (!list[k].is_object()) continue;
      const auto& entry = list[k].get_object();
      std::int64_t index = static_cast<std::int64_t>(k);
      if (const auto* i = entry.if_contains("index"); i && i->is_int64()) index = i->get_int64();
      const auto* e = entry.if_contains("embedding");
      found.emplace_back(index, e && e->is_array() ? *e : json::value(json::array()));
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<json::value> out;
  for (auto& [index, v] : found) out.push_back(std::move(v));
  return out;
}

json::object values(json::value vector) {
  return json::object{{"values", std::move(vector)}};
}

// Embeddings never stream: stream() is not called for these codecs and gives nullptr.
class EmbedCodec final : public Codec {
 public:
  core::Result<Canonical> decode(const json::value& body, const RouteParams& route) const override {
    auto model = route_model(route);
    if (!model) return model.error();
    if (!body.is_object()) return invalid("the request body must be a JSON object", "");
    auto text = embed_text(body.get_object(), "");
    if (!text) return text.error();
    auto dims = dimensions(body.get_object(), "");
    if (!dims) return dims.error();
    return embeddings_request(json::value(std::move(*text)), *model, *dims);
  }
  std::string encode(const json::object& answer, const AnswerContext&, const Moment&) const override {
    auto found = vectors(answer);
    json::value first = found.empty() ? json::value(json::array()) : std::move(found.front());
    return json::serialize(json::object{{"embedding", values(std::move(first))}});
  }
  std::unique_ptr<StreamEncoder> stream(const AnswerContext&) const override { return nullptr; }
};

class BatchEmbedCodec final : public Codec {
 public:
  core::Result<Canonical> decode(const json::value& body, const RouteParams& route) const override;
  std::string encode(const json::object& answer, const AnswerContext&, const Moment&) const override {
    json::array list;
    for (auto& v : vectors(answer)) list.push_back(values(std::move(v)));
    return json::serialize(json::object{{"embeddings", std::move(list)}});
  }
  std::unique_ptr<StreamEncoder> stream(const AnswerContext&) const override { return nullptr; }
};

// One OpenAI request for all texts: OpenAI has one "dimensions" per request, so the requests must agree.
core::Result<Canonical> BatchEmbedCodec::decode(const json::value& body, const RouteParams& route) const {
  auto model = route_model(route);
  if (!model) return model.error();
  const auto* requests = body.is_object() ? body.get_object().if_contains("requests") : nullptr;
  if (!requests || !requests->is_array() || requests->get_array().empty())
    return invalid("requests must be a non-empty array of EmbedContentRequest objects", "requests");
  json::array inputs;
  std::int64_t dims = 0;
  const auto& list = requests->get_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string at = "requests[" + std::to_string(i) + "]";
    std::string prefix = at + ".";
    if (!list[i].is_object()) return invalid(at + " must be an object", at);
    auto text = embed_text(list[i].get_object(), prefix);
    if (!text) return text.error();
    auto d = dimensions(list[i].get_object(), prefix);
    if (!d) return d.error();
    if (i > 0 && *d != dims)
      return invalid(prefix + "outputDimensionality must be the same in every request",
                     prefix + "outputDimensionality");
    dims = *d;
    inputs.emplace_back(std::move(*text));
  }
  return embeddings_request(json::value(std::move(inputs)), *model, dims);
}

}  // namespace

const Codec& embed_codec() {
  static const EmbedCodec kCodec;
  return kCodec;
}

const Codec& batch_embed_codec() {
  static const BatchEmbedCodec kCodec;
  return kCodec;
}

}  // namespace anygpt::formats::gemini
