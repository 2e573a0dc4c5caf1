#include "config/data_files.hpp"

#include <array>

#include <boost/json.hpp>
#include <cmath>

namespace anygpt::config {
namespace json = boost::json;
using core::ErrorKind;
using core::make_error;

namespace {

core::Error bad(std::string what) {
  return make_error(ErrorKind::kInvalidRequest, std::move(what));
}

std::int64_t to_count(const json::value* v) {
  if (!v) return 0;
  double d = 0;
  if (v->is_int64())
    d = static_cast<double>(v->get_int64());
  else if (v->is_uint64())
    d = static_cast<double>(v->get_uint64());
  else if (v->is_double())
    d = v->get_double();
  else
    return 0;
  if (!std::isfinite(d) || d < 0) return 0;  // the original resets negative/NaN usage to 0
  return static_cast<std::int64_t>(d);
}

std::optional<double> to_number(const json::value* v) {
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double()) return v->get_double();
  return std::nullopt;
}

std::string to_string(const json::value* v, std::string def = {}) {
  if (v && v->is_string()) return std::string(v->get_string());
  return def;
}

bool to_bool(const json::value* v) {
  return v && v->is_bool() && v->get_bool();
}

// "disabled": true splits by "disabled_by": the health checker's marker means auto-disabled
// (re-probed), anything else means disabled by a human.
void read_disabled(const json::object& o, bool& disabled, bool& auto_disabled) {
  bool off = to_bool(o.if_contains("disabled"));
  bool marked = to_string(o.if_contains("disabled_by")) == kAutoDisabledBy;
  disabled = off && !marked;
  auto_disabled = off && marked;
}

void read_model_state(const json::object& mo, ProviderModel& pm) {
  read_disabled(mo, pm.disabled, pm.auto_disabled);
  for (const char* name : {"upstream_model", "model_name"})
    if (auto s = to_string(mo.if_contains(name)); !s.empty()) pm.upstream_model = s;
  if (auto* skips = mo.if_contains("capability_skips"); skips && skips->is_object())
    for (const auto& sk : skips->get_object())
      if (sk.value().is_string())
        pm.capability_skips.emplace(std::string(sk.key()), std::string(sk.value().get_string()));
  pm.avg_provider_latency = to_number(mo.if_contains("avg_provider_latency"));
  pm.avg_token_speed = to_number(mo.if_contains("avg_token_speed"));
  pm.avg_response_time = to_number(mo.if_contains("avg_response_time"));
  pm.errors = to_count(mo.if_contains("errors"));
  pm.consecutive_errors = to_count(mo.if_contains("consecutive_errors"));
}

}  // namespace

core::Result<json::value> parse_json_document(std::string_view file_name, std::string_view text) {
  json::stream_parser p;
  boost::system::error_code ec;
  std::size_t consumed = p.write_some(text.data(), text.size(), ec);
  if (!ec) p.finish(ec);
  if (!ec && consumed < text.size()) {
    // trailing non-whitespace after the document
    for (std::size_t i = consumed; i < text.size(); ++i) {
      char c = text[i];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
        ec = json::error::extra_data;
        consumed = i;
        break;
      }
    }
  }
  if (ec) {
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i < consumed && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return bad(std::string(file_name) + ": invalid JSON at line " + std::to_string(line) + ", column " +
               std::to_string(col) + " (byte " + std::to_string(consumed) + "): " + ec.message());
  }
  return p.release();
}

core::Result<std::vector<KeyRecord>> keys_from_json(const json::value& doc) {
  if (!doc.is_object()) return bad("keys.json: expected an object keyed by API key");
  std::vector<KeyRecord> out;
  for (const auto& kv : doc.get_object()) {
    if (!kv.value().is_object())
      return bad("keys.json: entry for user key #" + std::to_string(out.size() + 1) + " is not an object");
    const auto& o = kv.value().get_object();
    KeyRecord r;
    r.api_key = std::string(kv.key());
    r.user_id = to_string(o.if_contains("userId"));
    r.role = to_string(o.if_contains("role"), "user");
    if (r.role != "admin" && r.role != "user") r.role = "user";
    r.tier = to_string(o.if_contains("tier"), "free");
    if (r.tier.empty()) r.tier = "free";
    r.token_usage = to_count(o.if_contains("tokenUsage"));
    r.request_count = to_count(o.if_contains("requestCount"));
    for (const auto& f : o) {
      auto k = f.key();
      if (k != "userId" && k != "role" && k != "tier" && k != "tokenUsage" && k != "requestCount")
        r.extra.emplace(k, f.value());
    }
    out.push_back(std::move(r));
  }
  return out;
}

json::value keys_to_json(const std::vector<KeyRecord>& keys) {
  json::object doc;
  for (const auto& r : keys) {
    json::object o = r.extra;
    o["userId"] = r.user_id;
    o["tokenUsage"] = r.token_usage;
    o["requestCount"] = r.request_count;
    o["role"] = r.role;
    o["tier"] = r.tier;
    doc[r.api_key] = std::move(o);
  }
  return doc;
}

core::Result<std::map<std::string, Tier>> tiers_from_json(const json::value& doc) {
  if (!doc.is_object()) return bad("tiers.json: expected an object keyed by tier name");
  std::map<std::string, Tier> out;
  for (const auto& kv : doc.get_object()) {
    if (!kv.value().is_object()) return bad("tiers.json: tier '" + std::string(kv.key()) + "' is not an object");
    const auto& o = kv.value().get_object();
    Tier t;
    t.rps = to_count(o.if_contains("rps"));
    t.rpm = to_count(o.if_contains("rpm"));
    t.rpd = to_count(o.if_contains("rpd"));
    if (auto n = to_number(o.if_contains("max_tokens"))) t.max_tokens = static_cast<std::int64_t>(*n);
    t.min_provider_score = to_number(o.if_contains("min_provider_score"));
    t.max_provider_score = to_number(o.if_contains("max_provider_score"));
    out.emplace(std::string(kv.key()), t);
  }
  return out;
}

const char* protocol_name(ProviderProtocol p) {
  switch (p) {
    case ProviderProtocol::kOpenAI: return "openai";
    case ProviderProtocol::kAnthropic: return "anthropic";
    case ProviderProtocol::kGemini: return "gemini";
    case ProviderProtocol::kOllama: return "ollama";
    case ProviderProtocol::kOpenAIResponses: return "openai-responses";
  }
  return "openai";
}

namespace {
// The provider's protocol and, for native protocols without a provider_url, the vendor's base.
core::Result<ProviderProtocol> read_protocol(const json::object& o, Provider& p, const std::string& where) {
  auto name = to_string(o.if_contains("protocol"));
  if (name.empty()) name = p.id.find("gemini") != std::string::npos || p.id == "google" ? "gemini" : "openai";
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kBases{
      {{"openai", ""},
       {"anthropic", "https://api.anthropic.com"},
       {"gemini", "https://generativelanguage.googleapis.com/v1beta"},
       {"ollama", "http://localhost:11434"},
       {"openai-responses", "https://api.openai.com/v1"}}};
  for (std::size_t i = 0; i < kBases.size(); ++i) {
    if (kBases[i].first != name) continue;
    if (p.provider_url.empty()) p.provider_url = kBases[i].second;
    auto protocol = static_cast<ProviderProtocol>(i);
    // (Its URL is an API base; one copied from an OpenAI entry may name an endpoint.)
    if (protocol == ProviderProtocol::kOpenAIResponses)
      for (std::string_view endpoint : {"/chat/completions", "/responses"})
        if (p.provider_url.ends_with(endpoint)) p.provider_url.resize(p.provider_url.size() - endpoint.size());
    return protocol;
  }
  return bad(where + ": unknown 'protocol' \"" + name +
             "\" (expected openai, anthropic, gemini, ollama or openai-responses)");
}
}  // namespace

core::Result<std::vector<Provider>> providers_from_json(const json::value& doc) {
  if (!doc.is_array()) return bad("providers.json: expected an array of providers");
  std::vector<Provider> out;
  for (const auto& v : doc.get_array()) {
    std::string where = "providers.json: provider #" + std::to_string(out.size() + 1);
    if (!v.is_object()) return bad(where + " is not an object");
    const auto& o = v.get_object();
    Provider p;
    p.id = to_string(o.if_contains("id"));
    if (p.id.empty()) return bad(where + " has no string 'id'");
    where = "providers.json: provider '" + p.id + "'";
    p.api_key = to_string(o.if_contains("apiKey"));
    p.provider_url = to_string(o.if_contains("provider_url"));
    auto protocol = read_protocol(o, p, where);
    if (!protocol) return protocol.error();
    p.protocol = *protocol;
    if (p.provider_url.empty()) return bad(where + " has no 'provider_url'");
    p.streaming_compatible = to_bool(o.if_contains("streamingCompatible"));
    read_disabled(o, p.disabled, p.auto_disabled);
    p.errors = to_count(o.if_contains("errors"));
    if (auto* urls = o.if_contains("provider_urls"); urls && urls->is_object())
      for (const auto& u : urls->get_object())
        if (u.value().is_string()) p.provider_urls.emplace(std::string(u.key()), std::string(u.value().get_string()));
    if (auto* models = o.if_contains("models")) {
      if (!models->is_object()) return bad(where + ": 'models' must be an object keyed by model id");
      for (const auto& m : models->get_object()) {
        ProviderModel pm;
        pm.id = std::string(m.key());
        pm.upstream_model = pm.id;
        if (m.value().is_object()) read_model_state(m.value().get_object(), pm);
        p.models.push_back(std::move(pm));
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

core::Result<std::vector<ModelDef>> models_from_json(const json::value& doc) {
  const json::value* data = nullptr;
  if (doc.is_object()) data = doc.get_object().if_contains("data");
  if (!data || !data->is_array()) return bad("models.json: expected {\"object\":\"list\",\"data\":[...]}");
  std::vector<ModelDef> out;
  for (const auto& v : data->get_array()) {
    if (!v.is_object()) return bad("models.json: entry #" + std::to_string(out.size() + 1) + " is not an object");
    const auto& o = v.get_object();
    ModelDef m;
    m.id = to_string(o.if_contains("id"));
    if (m.id.empty()) return bad("models.json: entry #" + std::to_string(out.size() + 1) + " has no string 'id'");
    m.owned_by = to_string(o.if_contains("owned_by"));
    m.created = to_count(o.if_contains("created"));
    if (auto* caps = o.if_contains("capabilities"); caps && caps->is_array())
      for (const auto& c : caps->get_array())
        if (c.is_string()) m.capabilities.emplace_back(c.get_string());
    if (auto* fb = o.if_contains("fallbacks"); fb && !fb->is_null()) {
      std::string where = "models.json: model '" + m.id + "'";
      if (!fb->is_array()) return bad(where + ": 'fallbacks' must be an array of model ids");
      for (const auto& f : fb->get_array()) {
        if (!f.is_string() || f.get_string().empty())
          return bad(where + ": 'fallbacks' must contain only non-empty model id strings");
        m.fallbacks.emplace_back(f.get_string());
      }
    }
    for (const char* key : {"context_length", "context_window"})
      if (const auto* w = o.if_contains(key); w && w->is_number() && m.context_window == 0)
        m.context_window = std::max<std::int64_t>(0, to_count(w));
    m.raw = o;
    out.push_back(std::move(m));
  }
  return out;
}

core::Result<std::vector<std::string>> excluded_patterns_from_json(const json::value& doc) {
  const json::value* p = doc.is_object() ? doc.get_object().if_contains("patterns") : nullptr;
  if (!p || !p->is_array()) return bad("excluded-errors.json: expected {\"patterns\":[...]}");
  std::vector<std::string> out;
  for (const auto& v : p->get_array())
    if (v.is_string()) out.emplace_back(v.get_string());
  return out;
}

std::string_view default_tiers_json() {
  return R"({
  "free": {"rps": 20, "rpm": 1000, "rpd": 10000, "max_tokens": 5000000, "min_provider_score": 0, "max_provider_score": 70},
  "pro": {"rps": 80, "rpm": 4000, "rpd": 40000, "max_tokens": 10000000, "min_provider_score": 50, "max_provider_score": null},
  "pro_130m": {"rps": 80, "rpm": 4000, "rpd": 40000, "max_tokens": 3900000000, "min_provider_score": 50, "max_provider_score": null},
  "enterprise": {"rps": 10000, "rpm": 500000, "rpd": 5000000, "max_tokens": null, "min_provider_score": 85, "max_provider_score": null}
}
)";
}

std::string_view default_models_json() {
  return "{\"object\":\"list\",\"data\":[]}\n";
}
std::string_view default_keys_json() {
  return "{}\n";
}
std::string_view default_providers_json() {
  return "[]\n";
}

std::string_view default_excluded_errors_json() {
  return R"({"patterns":["429","RESOURCE_EXHAUSTED","rate limit","returned text instead of image","not found for API version","not supported for generateContent","not a chat model","not supported in the v1/chat/completions","does not have access to model","organization must be verified","verify organization","No available capacity","The server had an error while processing your request","server_error","This model only supports Interactions API.","experiencing high demand","spikes in demand are usually temporary"]}
)";
}

}  // namespace anygpt::config
