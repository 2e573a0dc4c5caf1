#include "routing/model_updater.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <set>
#include <utility>

namespace anygpt::routing {
namespace json = boost::json;

namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 25> kPrefixOwners = {{
    {"openai", "openai"},
    {"anthropic", "anthropic"},
    {"google", "google"},
    {"gemini", "google"},
    {"gemma", "google"},
    {"meta-llama", "meta"},
    {"meta", "meta"},
    {"mistralai", "mistral.ai"},
    {"mistral", "mistral.ai"},
    {"qwen", "alibaba"},
    {"deepseek", "deepseek"},
    {"x-ai", "xai"},
    {"xai", "xai"},
    {"cohere", "cohere"},
    {"ai21", "ai21"},
    {"openrouter", "openrouter"},
    {"bytedance", "bytedance"},
    {"baidu", "baidu"},
    {"z-ai", "z.ai"},
    {"together", "together"},
    {"groq", "groq"},
    {"azure", "microsoft"},
    {"microsoft", "microsoft"},
    {"amazon", "amazon"},
    {"bedrock", "amazon"},
}};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
  return out;
}

bool has(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

bool set(json::object& o, std::string_view key, json::value v) {
  if (auto* old = o.if_contains(key); old && *old == v) return false;
  o.insert_or_assign(key, std::move(v));
  return true;
}

}  // namespace

std::string guess_owned_by(std::string_view model_id) {
  std::string id = lower(model_id);
  std::string_view s = id;
  if (auto slash = s.find('/'); slash != std::string_view::npos) {
    std::string_view prefix = s.substr(0, slash);
    for (const auto& [p, owner] : kPrefixOwners)
      if (p == prefix) return std::string(owner);
  }
  if (s.starts_with("gpt")) return "openai";
  if (has(s, "claude")) return "anthropic";
  if (has(s, "gemini") || has(s, "gemma")) return "google";
  if (has(s, "llama")) return "meta";
  if (has(s, "mistral") || has(s, "ministral") || has(s, "mixtral")) return "mistral.ai";
  if (has(s, "qwen")) return "alibaba";
  if (s.starts_with("o1")) return "openai";
  if (has(s, "command")) return "cohere";
  if (s.starts_with("chatgpt")) return "openai";
  return "unknown";
}

bool refresh_models_doc(json::value& models_doc, const std::map<std::string, int>& provider_counts,
                        std::int64_t now_ms) {
  json::value* data = models_doc.is_object() ? models_doc.get_object().if_contains("data") : nullptr;
  if (!data || !data->is_array()) return false;
  auto& entries = data->get_array();
  bool changed = false;
  std::set<std::string, std::less<>> present;
  for (auto it = entries.begin(); it != entries.end();) {
    if (!it->is_object() || !it->get_object().if_contains("id") || !it->get_object().at("id").is_string()) {
      ++it;
      continue;
    }
    auto& o = it->get_object();
    std::string id(o.at("id").get_string());
    auto count_it = provider_counts.find(id);
    int count = count_it == provider_counts.end() ? 0 : std::max(count_it->second, 0);
    if (count == 0 && !o.contains("fallbacks")) {
      it = entries.erase(it);
      changed = true;
      continue;
    }
    present.insert(id);
    changed |= set(o, "providers", count);
    const auto* owner = o.if_contains("owned_by");
    if (!owner || !owner->is_string() || owner->get_string() == "unknown")
      changed |= set(o, "owned_by", json::string(guess_owned_by(id)));
    ++it;
  }
  for (const auto& [id, count] : provider_counts) {
    if (count <= 0 || present.contains(id)) continue;
    json::object o;
    o["id"] = id;
    o["object"] = "model";
    o["created"] = now_ms;
    o["owned_by"] = guess_owned_by(id);
    o["providers"] = count;
    entries.push_back(std::move(o));
    present.insert(id);
    changed = true;
  }
  return changed;
}

}  // namespace anygpt::routing
