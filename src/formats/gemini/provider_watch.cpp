#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "formats/common/chunks.hpp"
#include "formats/common/event_scan.hpp"
#include "formats/common/sse_watcher.hpp"
#include "formats/gemini/provider_answer.hpp"
#include "formats/openai/openai.hpp"

namespace anygpt::formats::gemini {
namespace json = boost::json;

namespace {

using MaybeError = std::optional<core::Error>;

constexpr std::array<std::string_view, 1> kTextKeys{"text"};
// What makes an event worth a full parse: a finish, a blocked prompt, a candidate other than
// the first ("index" 0 does not mark), a function call (its arguments are counted as the
// decoder serialises them), an error.
constexpr std::array<std::string_view, 4> kMarks{"finishReason", "blockReason", "index", "functionCall"};
constexpr std::array<std::string_view, 1> kTopMarks{"error"};
// (A part that is a thought is not answer text: it ends what a continuation may follow.)
constexpr std::array<std::string_view, 1> kThought{"thought"};
const common::EventScanSpec kScan{kTextKeys, kMarks, kTopMarks, "candidates", "usageMetadata", "text", kThought};

// streamGenerateContent?alt=sse watched for a client that receives it untouched. An ordinary
// event (at most one candidate, the first, unfinished) gets one SAX pass; the others are parsed
// to follow each candidate to its finishReason. The stream is complete, as for the decoder, when
// every candidate seen has finished or the prompt was blocked. Usage: the latest usageMetadata
// (running totals), read once at the end from the last event that carried one.
class GenerateWatcher final : public common::SseWatcher {
 public:
  bool complete() const override { return complete_; }
  core::Usage usage() const override {
    if (!complete_ || usage_event_.empty()) return core::Usage{};
    auto metadata = openai::top_level_object(usage_event_, "usageMetadata");
    if (!metadata || metadata->empty()) return core::Usage{};
    return openai::usage_from(json::object{{"usage", usage_from_metadata(*metadata)}});
  }
  std::size_t delivered_chars() const override { return chars_; }
  StreamProgress progress() const override { return StreamProgress{text_, continuable_ && !complete_, 0}; }

 private:
  struct Choice {
    std::int64_t index = 0;
    bool finished = false;
  };

  MaybeError on_event(std::string_view event) override {
    std::string_view data;
    std::string joined;
    if (!openai::event_payload(event, data, joined)) return std::nullopt;
    if (data.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::nullopt;
    const auto captured_from = text_.size();
    auto scan = common::scan_event(data, kScan, continuable_ ? &text_ : nullptr);
    if (scan.has_reported) usage_event_.assign(data);
    if (scan.object && !scan.marked && scan.array_items <= 1) {
      chars_ += scan.text_chars;
      if (scan.array_items == 1) choice(0);
      if (scan.flags || text_.size() > kMaxContinuedText) stop_following();
      return std::nullopt;
    }
    text_.resize(std::min(text_.size(), captured_from));
    stop_following();  // a finish, a function call, another candidate: nothing a prefill continues
    return parse(data);
  }

  MaybeError parse(std::string_view data) {
    unsigned char block[4096];
    json::monotonic_resource arena(block, sizeof block);
    auto v = read_stream_event(data, &arena);
    if (!v) return v.error();
    const auto& response = v->get_object();
    auto candidates = event_candidates(response);
    if (!candidates) return candidates.error();
    if (!candidates->empty()) {
      for (const auto& c : *candidates) {
        chars_ += common::code_points(c.text) + common::code_points(c.reasoning);
        for (const auto& call : c.calls) {
          auto entry = tool_call_object(call, std::string(), -1);
          chars_ += common::code_points(entry.at("function").at("arguments").as_string());
        }
        auto& seen = choice(c.index);
        if (!c.finish_reason.empty()) seen.finished = true;
      }
      complete_ = std::all_of(choices_.begin(), choices_.end(), [](const Choice& c) { return c.finished; });
    } else if (!block_reason(response).empty()) {
      complete_ = true;
    }
    return std::nullopt;
  }

  Choice& choice(std::int64_t index) {
    auto at = std::find_if(choices_.begin(), choices_.end(), [index](const Choice& c) { return c.index == index; });
    if (at != choices_.end()) return *at;
    choices_.push_back(Choice{index, false});
    complete_ = false;
    return choices_.back();
  }

  void stop_following() {
    continuable_ = false;
    std::string().swap(text_);
  }

  std::vector<Choice> choices_;
  std::string usage_event_;  // the data of the last event with a usageMetadata object
  std::string text_;         // the text delivered, while continuable_
  bool continuable_ = true;
  std::size_t chars_ = 0;
  bool complete_ = false;
};

}  // namespace

std::unique_ptr<StreamWatcher> make_stream_watcher() {
  return std::make_unique<GenerateWatcher>();
}

}  // namespace anygpt::formats::gemini
