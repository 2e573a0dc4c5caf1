#include "formats/openai/embeddings_codec.hpp"

#include <boost/json.hpp>
#include <vector>

#include "core/base64.hpp"
#include "formats/common/chunks.hpp"
#include "formats/openai/openai.hpp"
#include "formats/openai/stream_inspect.hpp"

namespace anygpt::formats::openai {
namespace json = boost::json;

namespace {

core::Error invalid(std::string message, std::string param) {
  return core::make_error(core::ErrorKind::kInvalidRequest, std::move(message), std::move(param));
}

bool token_id(const json::value& v) {
  return (v.is_int64() && v.get_int64() >= 0) || v.is_uint64();
}

bool token_ids(const json::value& v) {
  if (!v.is_array() || v.get_array().empty()) return false;
  for (const auto& t : v.get_array())
    if (!token_id(t)) return false;
  return true;
}

// OpenAI's four input shapes; anything else names the offending element.
std::optional<core::Error> check_input(const json::value* input) {
  const std::string kShapes =
      "must be a non-empty string, or a non-empty array of non-empty strings, of token ids or of token-id arrays";
  if (!input || input->is_null()) return invalid("'input' is required", "input");
  if (input->is_string()) {
    if (input->get_string().empty()) return invalid("'input' " + kShapes, "input");
    return std::nullopt;
  }
  if (!input->is_array() || input->get_array().empty()) return invalid("'input' " + kShapes, "input");
  const auto& items = input->get_array();
  if (token_ids(*input)) return std::nullopt;
  const bool strings = items.front().is_string();
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    bool ok = strings ? item.is_string() && !item.get_string().empty() : token_ids(item);
    if (!ok) return invalid("'input' " + kShapes, "input[" + std::to_string(i) + "]");
  }
  return std::nullopt;
}

// The list with every float vector as base64 (vectors already strings are left as they are).
json::object with_base64_vectors(const json::object& answer) {
  json::object out(answer, json::storage_ptr{});
  auto* data = out.if_contains("data");
  if (!data || !data->is_array()) return out;
  std::vector<float> values;
  for (auto& entry : data->get_array()) {
    auto* e = entry.is_object() ? entry.get_object().if_contains("embedding") : nullptr;
    if (!e || !e->is_array()) continue;
    values.clear();
    for (const auto& x : e->get_array())
      values.push_back(static_cast<float>(x.is_number() ? x.to_number<double>() : 0));
    *e = core::float32_le_base64(values);
  }
  return out;
}

class EmbeddingsCodec final : public Codec {
 public:
  core::Result<Canonical> decode(const json::value& body, const RouteParams&) const override {
    if (!body.is_object()) return invalid("Request body must be a JSON object", "");
    const auto& o = body.get_object();
    const auto* model = o.if_contains("model");
    if (!model || !model->is_string() || model->get_string().empty())
      return invalid("'model' is required and must be a non-empty string", "model");
    if (auto e = check_input(o.if_contains("input"))) return *e;
    const auto* format = common::field(o, "encoding_format");
    if (format && (!format->is_string() || (format->get_string() != "float" && format->get_string() != "base64")))
      return invalid("'encoding_format' must be \"float\" or \"base64\"", "encoding_format");
    const auto* dims = common::field(o, "dimensions");
    if (dims && !((dims->is_int64() && dims->get_int64() > 0) || dims->is_uint64()))
      return invalid("'dimensions' must be a positive integer", "dimensions");
    Canonical c;
    c.op = Operation::kEmbeddings;
    c.same_bytes = true;
    c.model = std::string(model->get_string());
    c.embeddings_base64 = format && format->get_string() == "base64";
    return c;
  }
  bool relays_answer() const override { return true; }
  std::string encode(const json::object& answer, const AnswerContext& ctx, const Moment&) const override {
    return json::serialize(ctx.embeddings_base64 ? with_base64_vectors(answer) : answer);
  }
  // decode() never sets stream: there is no embeddings stream.
  std::unique_ptr<StreamEncoder> stream(const AnswerContext&) const override { return nullptr; }
};

std::int64_t text_tokens(const json::value& v) {
  return v.is_string() ? estimate_tokens(common::code_points(v.get_string())) : 0;
}

}  // namespace

const Codec& embeddings_codec() {
  static const EmbeddingsCodec kCodec;
  return kCodec;
}

std::int64_t estimate_embedding_tokens(const json::object& request) {
  const auto* input = request.if_contains("input");
  if (!input) return 0;
  if (!input->is_array()) return text_tokens(*input);
  std::int64_t n = 0;
  for (const auto& item : input->get_array()) {
    if (token_id(item))
      ++n;
    else if (item.is_array())
      n += static_cast<std::int64_t>(item.get_array().size());
    else
      n += text_tokens(item);
  }
  return n;
}

}  // namespace anygpt::formats::openai
