#include "formats/ollama/answer.hpp"

#include <boost/json.hpp>
#include <cstdio>

#include "formats/common/chunks.hpp"
#include "formats/openai/openai.hpp"
#include "formats/openai/stream_inspect.hpp"

namespace anygpt::formats::ollama {
namespace json = boost::json;

namespace {

struct Civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

// The proleptic Gregorian date `days` after 1970-01-01 (H. Hinnant's civil_from_days).
Civil civil_from_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  return Civil{static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

std::size_t code_points(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

json::array tool_calls_of(const json::object& message) {
  json::array out;
  const auto* calls = message.if_contains("tool_calls");
  if (!calls || !calls->is_array()) return out;
  for (const auto& c : calls->get_array()) {
    const json::value* fn = c.is_object() ? c.get_object().if_contains("function") : nullptr;
    if (!fn || !fn->is_object()) continue;
    out.push_back(tool_call(common::str(fn->get_object(), "name"), common::str(fn->get_object(), "arguments")));
  }
  return out;
}

}  // namespace

std::string rfc3339(std::int64_t wall_ms, bool millis) {
  if (wall_ms < 0) wall_ms = 0;
  constexpr std::int64_t kDayMs = 86'400'000;
  const Civil date = civil_from_days(wall_ms / kDayMs);
  const std::int64_t ms = wall_ms % kDayMs;
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", static_cast<long long>(date.year),
                        date.month, date.day, static_cast<long long>(ms / 3'600'000),
                        static_cast<long long>(ms / 60'000 % 60), static_cast<long long>(ms / 1000 % 60));
  std::string out(buf, static_cast<std::size_t>(n));
  if (millis) {
    std::snprintf(buf, sizeof buf, ".%03lld", static_cast<long long>(ms % 1000));
    out += buf;
  }
  out += 'Z';
  return out;
}

std::string_view done_reason(std::string_view finish_reason) {
  return finish_reason == "length" ? "length" : "stop";
}

json::object line_head(std::string_view model, const Moment& now) {
  return json::object{{"model", model}, {"created_at", rfc3339(now.wall_ms, true)}};
}

void add_metrics(json::object& line, const core::Usage& usage, const Moment& now) {
  line["total_duration"] = now.elapsed_ns;
  line["load_duration"] = 0;
  line["prompt_eval_count"] = usage.prompt_tokens;
  line["prompt_eval_duration"] = 0;
  line["eval_count"] = usage.completion_tokens;
  line["eval_duration"] = now.elapsed_ns;
}

json::object tool_call(std::string_view name, std::string_view arguments) {
  return json::object{{"function", json::object{{"name", name}, {"arguments", common::parse_arguments(arguments)}}}};
}

std::string_view reasoning(const json::object& message) {
  auto text = common::str(message, "reasoning_content");
  return text.empty() ? common::str(message, "reasoning") : text;
}

std::string encode_answer(Endpoint endpoint, const json::object& answer, const AnswerContext& ctx, const Moment& now) {
  const auto* choice = common::first_choice(answer);
  const json::object* message = nullptr;
  if (const json::value* m = choice ? choice->if_contains("message") : nullptr; m && m->is_object())
    message = &m->get_object();
  std::string text = message ? common::message_text(*message) : std::string();
  std::string_view thinking = message ? reasoning(*message) : std::string_view{};

  json::object out = line_head(ctx.model, now);
  if (endpoint == Endpoint::kChat) {
    json::object m{{"role", "assistant"}, {"content", text}};
    if (!thinking.empty()) m["thinking"] = thinking;
    if (auto calls = message ? tool_calls_of(*message) : json::array{}; !calls.empty())
      m["tool_calls"] = std::move(calls);
    out["message"] = std::move(m);
  } else {
    out["response"] = text;
    if (!thinking.empty()) out["thinking"] = thinking;
  }
  out["done"] = true;
  out["done_reason"] = done_reason(choice ? common::str(*choice, "finish_reason") : std::string_view{});
  auto usage = openai::usage_from(answer);
  if (!usage.present) usage.completion_tokens = openai::estimate_tokens(code_points(text) + code_points(thinking));
  add_metrics(out, usage, now);
  return json::serialize(out);
}

}  // namespace anygpt::formats::ollama
