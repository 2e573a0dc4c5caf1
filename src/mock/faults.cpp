#include "mock/faults.hpp"

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <optional>
#include <utility>

#include "mock/json_text.hpp"

namespace anygpt::mock {
namespace json = boost::json;
using core::ErrorKind;

namespace {

constexpr std::array<std::pair<std::string_view, FaultKind>, 8> kKinds{{
    {"status", FaultKind::kStatus},
    {"reset", FaultKind::kReset},
    {"no_answer", FaultKind::kNoAnswer},
    {"slow_first_token", FaultKind::kSlowFirstToken},
    {"stream_cut", FaultKind::kStreamCut},
    {"stream_stall", FaultKind::kStreamStall},
    {"malformed_chunk", FaultKind::kMalformedChunk},
    {"missing_done", FaultKind::kMissingDone},
}};

core::Error invalid(std::string message, std::string param) {
  return core::make_error(ErrorKind::kInvalidRequest, std::move(message), std::move(param), "invalid_fault");
}

// Reads an optional non-negative integer field; nullopt result = ok (absent or stored in out).
std::optional<core::Error> read_count(const json::object& o, std::string_view key, std::int64_t min,
                                      std::int64_t& out) {
  const auto* v = o.if_contains(json::string_view(key.data(), key.size()));
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_number()) return invalid(std::string(key) + " must be an integer", std::string(key));
  double d = v->to_number<double>();
  if (std::floor(d) != d || d < static_cast<double>(min) || d > 1e12)
    return invalid(std::string(key) + " must be an integer >= " + std::to_string(min), std::string(key));
  out = static_cast<std::int64_t>(d);
  return std::nullopt;
}

std::optional<core::Error> read_string(const json::object& o, std::string_view key, std::string& out) {
  const auto* v = o.if_contains(json::string_view(key.data(), key.size()));
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) return invalid(std::string(key) + " must be a string", std::string(key));
  out.assign(v->get_string().data(), v->get_string().size());
  return std::nullopt;
}

}  // namespace

std::string_view fault_name(FaultKind kind) {
  for (const auto& [name, k] : kKinds)
    if (k == kind) return name;
  return "status";
}

core::Result<Fault> parse_fault(std::string_view body) {
  boost::system::error_code ec;
  auto doc = json::parse(json::string_view(body.data(), body.size()), ec);
  if (ec || !doc.is_object())
    return core::make_error(ErrorKind::kInvalidRequest, "The body must be a JSON object", {}, "invalid_json");
  const auto& o = doc.get_object();
  Fault f;
  const auto* kind = o.if_contains("fault");
  if (!kind || !kind->is_string()) return invalid("fault must be one of the fault kinds (see docs/MOCK.md)", "fault");
  bool known = false;
  for (const auto& [name, k] : kKinds) {
    if (kind->get_string() == json::string_view(name.data(), name.size())) {
      f.kind = k;
      known = true;
    }
  }
  if (!known) return invalid("Unknown fault '" + std::string(kind->get_string()) + "'", "fault");
  if (auto err = read_string(o, "model", f.model)) return *err;
  if (auto err = read_count(o, "count", 1, f.remaining)) return *err;
  if (auto err = read_count(o, "afterChunks", 0, f.after_chunks)) return *err;
  std::int64_t delay = 0;
  if (auto err = read_count(o, "delayMs", 0, delay)) return *err;
  f.delay_ms = static_cast<double>(delay);
  if (auto err = read_count(o, "retryAfter", 0, f.retry_after)) return *err;
  if (auto err = read_string(o, "message", f.message)) return *err;
  if (auto err = read_string(o, "code", f.code)) return *err;
  if (auto err = read_string(o, "type", f.type)) return *err;
  if (f.kind == FaultKind::kStatus) {
    std::int64_t status = 0;
    if (auto err = read_count(o, "status", 0, status)) return *err;
    if (status < 400 || status > 599) return invalid("status must be an HTTP error status (400-599)", "status");
    f.status = static_cast<unsigned>(status);
  }
  return f;
}

std::string fault_json(const Fault& f) {
  std::string out = "{";
  append_key(out, "id");
  append_int(out, static_cast<std::int64_t>(f.id));
  out += ',';
  append_key(out, "fault");
  append_json_string(out, fault_name(f.kind));
  out += ',';
  append_key(out, "model");
  if (f.model.empty()) {
    out += "null";
  } else {
    append_json_string(out, f.model);
  }
  out += ',';
  append_key(out, "remaining");
  if (f.remaining < 0) {
    out += "null";
  } else {
    append_int(out, f.remaining);
  }
  switch (f.kind) {
    case FaultKind::kStatus:
      out += ',';
      append_key(out, "status");
      append_int(out, f.status);
      if (f.retry_after >= 0) {
        out += ',';
        append_key(out, "retryAfter");
        append_int(out, f.retry_after);
      }
      for (auto [key, value] : {std::pair<std::string_view, const std::string*>{"message", &f.message},
                                {"code", &f.code},
                                {"type", &f.type}}) {
        if (value->empty()) continue;
        out += ',';
        append_key(out, key);
        append_json_string(out, *value);
      }
      break;
    case FaultKind::kSlowFirstToken:
      out += ',';
      append_key(out, "delayMs");
      append_double(out, f.delay_ms);
      break;
    case FaultKind::kStreamCut:
    case FaultKind::kStreamStall:
    case FaultKind::kMalformedChunk:
      out += ',';
      append_key(out, "afterChunks");
      append_int(out, f.after_chunks);
      break;
    default: break;
  }
  out += '}';
  return out;
}

std::uint64_t FaultTable::add(Fault fault) {
  std::lock_guard lock(mu_);
  fault.id = next_id_++;
  faults_.push_back(std::move(fault));
  size_.store(faults_.size(), std::memory_order_release);
  return faults_.back().id;
}

std::optional<Fault> FaultTable::take(std::string_view model) {
  if (size_.load(std::memory_order_acquire) == 0) return std::nullopt;
  std::lock_guard lock(mu_);
  auto pick = faults_.end();
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (!it->model.empty() && it->model == model) {
      pick = it;
      break;
    }
    if (it->model.empty() && pick == faults_.end()) pick = it;
  }
  if (pick == faults_.end()) return std::nullopt;
  Fault applied = *pick;
  if (pick->remaining > 0 && --pick->remaining == 0) {
    faults_.erase(pick);
    size_.store(faults_.size(), std::memory_order_release);
  }
  return applied;
}

void FaultTable::clear() {
  std::lock_guard lock(mu_);
  faults_.clear();
  size_.store(0, std::memory_order_release);
}

std::string FaultTable::list_json() const {
  std::lock_guard lock(mu_);
  std::string out = "{\"faults\":[";
  for (std::size_t i = 0; i < faults_.size(); ++i) {
    if (i) out += ',';
    out += fault_json(faults_[i]);
  }
  out += "]}";
  return out;
}

}  // namespace anygpt::mock
