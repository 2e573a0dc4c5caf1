#include "store/redis/layout.hpp"

#include <boost/json.hpp>
#include <charconv>

namespace anygpt::store::redis {
namespace json = boost::json;

std::string rate_key(std::string_view digest_hex) {
  return "anygpt:rl:" + std::string(digest_hex);
}

std::string batch_key(std::string_view instance, std::uint64_t seq) {
  return "anygpt:batch:" + std::string(instance) + ":" + std::to_string(seq);
}

std::string video_key(std::string_view job_id) {
  return "anygpt:video:" + std::string(job_id);
}

std::string response_key(std::string_view id) {
  return "anygpt:response:" + std::string(id);
}

std::string interaction_key(std::string_view id) {
  return "anygpt:interaction:" + std::string(id);
}

const char* const kLeaseScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local want = tonumber(ARGV[1])
local periods = {1000, 60000, 86400000}
local names = {'s', 'm', 'd'}
local grant = want
local tats = {}
local retry = 0
for i = 1, 3 do
  local limit = tonumber(ARGV[1 + i])
  if limit > 0 then
    local interval = periods[i] / limit
    local tat = tonumber(redis.call('HGET', KEYS[1], names[i]) or '0')
    if tat < now then tat = now end
    tats[i] = tat
    local fit = math.floor((now + periods[i] - tat) / interval + 1e-9)
    if fit < grant then grant = fit end
    if fit <= 0 then
      local wait = tat + interval - periods[i] - now
      if wait > retry then retry = wait end
    end
  end
end
if grant < 0 then grant = 0 end
local left = -1
local limit_of_left = 0
local reset = 0
for i = 1, 3 do
  local limit = tonumber(ARGV[1 + i])
  if tats[i] then
    local interval = periods[i] / limit
    local tat = tats[i] + grant * interval
    if grant > 0 then redis.call('HSET', KEYS[1], names[i], string.format('%.3f', tat)) end
    local l = math.floor((now + periods[i] - tat) / interval + 1e-9)
    if left < 0 or l < left then left = l; limit_of_left = limit; reset = tat - now end
  end
end
if grant > 0 then redis.call('PEXPIRE', KEYS[1], 86400000) end
return {grant, math.ceil(retry), left, limit_of_left, math.ceil(reset)}
)lua";

const char* const kUsageScript = R"lua(
local fresh = redis.call('SET', KEYS[1], '1', 'NX', 'EX', 604800)
local out = {}
for i = 1, #ARGV, 3 do
  local d = ARGV[i]
  local tok, req
  if fresh then
    tok = redis.call('HINCRBY', KEYS[2], d .. ':t', ARGV[i + 1])
    req = redis.call('HINCRBY', KEYS[2], d .. ':r', ARGV[i + 2])
  else
    tok = tonumber(redis.call('HGET', KEYS[2], d .. ':t') or '0')
    req = tonumber(redis.call('HGET', KEYS[2], d .. ':r') or '0')
  end
  out[#out + 1] = tok
  out[#out + 1] = req
end
return out
)lua";

std::string encode_key_record(const config::KeyRecord& record) {
  json::object o = record.extra;
  o["apiKey"] = record.api_key;
  o["userId"] = record.user_id;
  o["role"] = record.role;
  o["tier"] = record.tier;
  return json::serialize(o);
}

core::Result<config::KeyRecord> decode_key_record(std::string_view text) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  const json::value* key = (!ec && v.is_object()) ? v.as_object().if_contains("apiKey") : nullptr;
  if (!key || !key->is_string() || key->as_string().empty())
    return core::make_error(core::ErrorKind::kInvalidRequest, "redis: a key record has no 'apiKey'");
  json::object doc;
  json::object rest = v.as_object();
  rest.erase("apiKey");
  doc[key->as_string()] = std::move(rest);
  auto records = config::keys_from_json(doc);
  if (!records) return records.error();
  return std::move(records->front());
}

namespace {
const char* kind_name(Event::Kind k) {
  switch (k) {
    case Event::Kind::kKeyAdded: return "key+";
    case Event::Kind::kKeyRemoved: return "key-";
    case Event::Kind::kCircuitOpen: return "open";
  }
  return "?";
}
}  // namespace

std::string encode_event(const Event& e) {
  json::object o{{"k", kind_name(e.kind)}, {"o", e.origin}};
  if (e.kind == Event::Kind::kCircuitOpen) {
    o["p"] = e.provider;
    o["m"] = e.model;
    o["ms"] = e.for_ms;
  } else {
    o["d"] = e.digest;
  }
  return json::serialize(o);
}

std::optional<Event> decode_event(std::string_view text) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  auto str = [&o](const char* name) -> std::string {
    const auto* f = o.if_contains(name);
    return f && f->is_string() ? std::string(f->as_string()) : std::string();
  };
  Event e;
  auto k = str("k");
  if (k == "key+")
    e.kind = Event::Kind::kKeyAdded;
  else if (k == "key-")
    e.kind = Event::Kind::kKeyRemoved;
  else if (k == "open")
    e.kind = Event::Kind::kCircuitOpen;
  else
    return std::nullopt;
  e.origin = str("o");
  e.digest = str("d");
  e.provider = str("p");
  e.model = str("m");
  if (const auto* ms = o.if_contains("ms"); ms && ms->is_int64()) e.for_ms = ms->as_int64();
  return e;
}

}  // namespace anygpt::store::redis
