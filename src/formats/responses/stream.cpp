#include "formats/responses/stream.hpp"

#include <boost/json.hpp>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "core/json_text.hpp"
#include "formats/common/chunks.hpp"
#include "formats/responses/answer.hpp"

namespace anygpt::formats::responses {
namespace json = boost::json;

namespace {

// One content part of a message item.
struct Part {
  bool refusal = false;
  std::string text;
  bool done = false;
};

// One output item, at output_index = its position in ResponseStream::items_.
struct Item {
  bool message = true;
  std::string id;
  bool done = false;
  std::vector<Part> parts;  // message
  long long slot = 0;       // function call: the chat tool-call index it comes from
  std::string call_id;
  std::string name;
  std::string arguments;
  std::string status;  // once done: completed / incomplete
};

json::object part_object(const Part& p) {
  if (p.refusal) return json::object{{"type", "refusal"}, {"refusal", p.text}};
  return output_text(p.text);
}

class ResponseStream final : public StreamEncoder {
 public:
  explicit ResponseStream(const AnswerContext& ctx) : ids_(ctx.request_id), shell_(response_shell(ctx, 0)) {}
  std::string_view content_type() const override { return "text/event-stream"; }

  void chunk(const json::object& chunk, const Moment& now, std::string& out) override {
    if (done_) return;
    if (!started_) start(chunk, now, out);
    if (const auto* u = chunk.if_contains("usage"); u && u->is_object()) details_ = usage_details(chunk);
    const auto* choice = common::first_choice(chunk);
    if (!choice) return;
    if (const auto* d = choice->if_contains("delta"); d && d->is_object()) {
      const auto& delta = d->get_object();
      text(common::str(delta, "content"), false, out);
      text(common::str(delta, "refusal"), true, out);
      if (const auto* calls = delta.if_contains("tool_calls"); calls && calls->is_array())
        for (const auto& call : calls->get_array())
          if (call.is_object()) tool_fragment(call.get_object(), out);
    }
    if (auto reason = common::str(*choice, "finish_reason"); !reason.empty()) {
      finish_reason_ = reason;
      close_all(out);
    }
  }

  void finish(const core::Usage& usage, const Moment& now, std::string& out) override {
    if (done_) return;
    if (!started_) start(json::object{}, now, out);
    close_all(out);
    auto outcome = outcome_of(finish_reason_);
    auto response = snapshot();
    set_outcome(response, outcome);
    response["usage"] = usage_object(usage, details_);
    bool complete = outcome.incomplete_reason.empty();
    emit(complete ? "response.completed" : "response.incomplete", json::object{{"response", std::move(response)}}, out);
    done_ = true;
  }

  void fail(const core::Error& error, std::string& out) override {
    if (done_) return;
    done_ = true;
    std::string_view code = error.kind == core::ErrorKind::kRateLimited || error.kind == core::ErrorKind::kQuotaExceeded
                                ? "rate_limit_exceeded"
                                : "server_error";
    if (started_) {
      auto response = snapshot();
      response["status"] = "failed";
      response["error"] = json::object{{"code", code}, {"message", error.message}};
      emit("response.failed", json::object{{"response", std::move(response)}}, out);
    }
    emit("error", json::object{{"code", code}, {"message", error.message}, {"param", nullptr}}, out);
  }

 private:
  void emit(std::string_view type, json::object data, std::string& out) {
    json::object event{{"type", type}, {"sequence_number", sequence_++}};
    for (auto& field : data) event.emplace(field.key(), std::move(field.value()));
    out += "event: ";
    out += type;
    out += "\ndata: ";
    out += json::serialize(event);
    out += "\n\n";
  }

  // A delta event, the most frequent, written directly (no DOM).
  void emit_delta(std::string_view type, const Item& item, std::size_t index, std::string_view delta,
                  std::string& out) {
    out += "event: ";
    out += type;
    out += "\ndata: {\"type\":\"";
    out += type;
    out += "\",\"sequence_number\":";
    out += std::to_string(sequence_++);
    out += ",\"item_id\":";
    core::append_json_string(out, item.id);
    out += ",\"output_index\":";
    out += std::to_string(index);
    if (item.message) {
      out += ",\"content_index\":";
      out += std::to_string(item.parts.size() - 1);
    }
    out += ",\"delta\":";
    core::append_json_string(out, delta);
    if (item.message && !item.parts.back().refusal) out += ",\"logprobs\":[]";
    out += "}\n\n";
  }

  void start(const json::object& chunk, const Moment& now, std::string& out) {
    const auto* created = chunk.if_contains("created");
    shell_["created_at"] =
        created && created->is_int64() && created->get_int64() > 0 ? created->get_int64() : now.wall_ms / 1000;
    started_ = true;
    emit("response.created", json::object{{"response", shell_}}, out);
    emit("response.in_progress", json::object{{"response", shell_}}, out);
  }

  json::object item_object(const Item& item) const {
    std::string_view status = item.done ? std::string_view(item.status) : "in_progress";
    if (!item.message) return function_call_item(item.id, item.call_id, item.name, item.arguments, status);
    json::array content;
    for (const auto& p : item.parts) content.push_back(part_object(p));
    return json::object{{"id", item.id},
                        {"type", "message"},
                        {"status", status},
                        {"role", "assistant"},
                        {"content", std::move(content)}};
  }

  // The response as it stands: the shell with every item added so far.
  json::object snapshot() const {
    json::object response = shell_;
    auto& output = response["output"].get_array();
    for (const auto& item : items_) {
      auto o = item_object(item);
      if (!item.done) o["status"] = "incomplete";
      output.push_back(std::move(o));
    }
    return response;
  }

  std::size_t add(Item item, std::string& out) {
    items_.push_back(std::move(item));
    std::size_t index = items_.size() - 1;
    emit("response.output_item.added", json::object{{"output_index", index}, {"item", item_object(items_[index])}},
         out);
    return index;
  }

  void text(std::string_view piece, bool refusal, std::string& out) {
    if (piece.empty()) return;
    if (open_message_ < 0) {
      Item m;
      m.id = ids_.message(messages_++);
      open_message_ = static_cast<long long>(add(std::move(m), out));
    }
    auto index = static_cast<std::size_t>(open_message_);
    auto& m = items_[index];
    if (m.parts.empty() || m.parts.back().done || m.parts.back().refusal != refusal) {
      close_part(index, out);
      m.parts.push_back(Part{refusal, {}, false});
      emit("response.content_part.added",
           json::object{{"item_id", m.id},
                        {"output_index", index},
                        {"content_index", m.parts.size() - 1},
                        {"part", part_object(m.parts.back())}},
           out);
    }
    m.parts.back().text += piece;
    emit_delta(refusal ? "response.refusal.delta" : "response.output_text.delta", m, index, piece, out);
  }

  void close_part(std::size_t index, std::string& out) {
    auto& m = items_[index];
    if (m.parts.empty() || m.parts.back().done) return;
    auto& p = m.parts.back();
    p.done = true;
    json::object done{{"item_id", m.id}, {"output_index", index}, {"content_index", m.parts.size() - 1}};
    if (p.refusal) {
      done["refusal"] = p.text;
      emit("response.refusal.done", done, out);
    } else {
      done["text"] = p.text;
      done["logprobs"] = json::array{};
      emit("response.output_text.done", done, out);
    }
    done.erase("text");
    done.erase("refusal");
    done.erase("logprobs");
    done["part"] = part_object(p);
    emit("response.content_part.done", std::move(done), out);
  }

  std::string_view closing_status() const { return outcome_of(finish_reason_).status; }

  void close_item(std::size_t index, std::string& out) {
    auto& item = items_[index];
    if (item.done) return;
    if (item.message) {
      close_part(index, out);
      if (open_message_ == static_cast<long long>(index)) open_message_ = -1;
    } else {
      emit("response.function_call_arguments.done",
           json::object{
               {"item_id", item.id}, {"output_index", index}, {"name", item.name}, {"arguments", item.arguments}},
           out);
    }
    item.done = true;
    item.status = closing_status();
    emit("response.output_item.done", json::object{{"output_index", index}, {"item", item_object(item)}}, out);
  }

  // The chat tool-call index a fragment belongs to: its "index", else its id's call, else the
  // last call (a continuation).
  long long slot_of(const json::object& fragment) {
    if (const auto* i = fragment.if_contains("index"); i && i->is_int64()) return i->get_int64();
    if (const auto* i = fragment.if_contains("index"); i && i->is_uint64())
      return static_cast<long long>(i->get_uint64());
    auto id = common::str(fragment, "id");
    for (const auto* calls : {&items_, &pending_})
      for (const auto& c : *calls)
        if (!c.message && !id.empty() && c.call_id == id) return c.slot;
    if (id.empty() && last_slot_) return *last_slot_;
    return std::numeric_limits<long long>::min() + static_cast<long long>(calls_);
  }

  void tool_fragment(const json::object& fragment, std::string& out) {
    long long slot = slot_of(fragment);
    last_slot_ = slot;
    auto id = common::str(fragment, "id");
    const auto* f = fragment.if_contains("function");
    const json::object* function = f && f->is_object() ? &f->get_object() : nullptr;
    auto name = function ? common::str(*function, "name") : std::string_view();
    auto arguments = function ? common::str(*function, "arguments") : std::string_view();
    for (std::size_t i = 0; i < items_.size(); ++i) {
      auto& item = items_[i];
      if (item.message || item.slot != slot) continue;
      if (item.done || arguments.empty()) return;  // (a closed item cannot take more)
      item.arguments += arguments;
      emit_delta("response.function_call_arguments.delta", item, i, arguments, out);
      return;
    }
    Item* call = nullptr;
    for (auto& p : pending_)
      if (p.slot == slot) call = &p;
    if (!call) {
      if (open_message_ >= 0) close_item(static_cast<std::size_t>(open_message_), out);
      Item c;
      c.message = false;
      c.slot = slot;
      c.id = ids_.function_call(calls_);
      c.call_id = id.empty() ? ids_.call(calls_) : std::string(id);
      ++calls_;
      pending_.push_back(std::move(c));
      call = &pending_.back();
    }
    if (call->name.empty()) call->name = name;
    call->arguments += arguments;
    if (!call->name.empty()) add_call(static_cast<std::size_t>(call - pending_.data()), out);
  }

  // Moves a pending call whose name is known into the output.
  void add_call(std::size_t pending, std::string& out) {
    Item call = std::move(pending_[pending]);
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(pending));
    std::string arguments = std::move(call.arguments);
    call.arguments.clear();
    auto index = add(std::move(call), out);
    if (arguments.empty()) return;
    items_[index].arguments = arguments;
    emit_delta("response.function_call_arguments.delta", items_[index], index, arguments, out);
  }

  void close_all(std::string& out) {
    while (!pending_.empty()) add_call(0, out);  // (a call whose name never came: added nameless)
    for (std::size_t i = 0; i < items_.size(); ++i) close_item(i, out);
  }

  Ids ids_;
  json::object shell_;
  std::vector<Item> items_;
  std::vector<Item> pending_;  // function calls waiting for their name
  long long open_message_ = -1;
  std::size_t messages_ = 0;
  std::size_t calls_ = 0;
  std::optional<long long> last_slot_;
  std::int64_t sequence_ = 0;
  bool started_ = false;
  bool done_ = false;
  std::string finish_reason_;
  UsageDetails details_;
};

}  // namespace

std::unique_ptr<StreamEncoder> make_stream_encoder(const AnswerContext& ctx) {
  return std::make_unique<ResponseStream>(ctx);
}

}  // namespace anygpt::formats::responses
