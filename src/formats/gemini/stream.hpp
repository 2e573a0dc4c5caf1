// formats/gemini/stream: chat.completion.chunk stream -> streamGenerateContent SSE ("data: <json>\r\n\r\n").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "formats/codec.hpp"
#include "formats/common/chunks.hpp"

namespace anygpt::formats::gemini {

// Text deltas go out at once, one event per chunk (a candidate per choice index). Gemini sends whole
// function calls, so tool-call fragments are held and sent, with each candidate's finishReason and the
// usageMetadata, in the last event that finish() writes. That event always carries at least one part
// ({"text":""} when nothing else is left): the SDK's chat history drops an answer with an empty chunk.
class GenerateStream final : public StreamEncoder {
 public:
  explicit GenerateStream(const AnswerContext& ctx);
  std::string_view content_type() const override { return "text/event-stream"; }
  void chunk(const boost::json::object& chunk, const Moment& now, std::string& out) override;
  void finish(const core::Usage& usage, const Moment& now, std::string& out) override;
  void fail(const core::Error& error, std::string& out) override;
  // Each event stands alone: the next ones simply carry on the text.
  bool resume(const StreamProgress& progress) override { return progress.continuable; }

 private:
  struct Candidate {
    std::int64_t index = 0;
    std::string finish_reason;  // OpenAI's, "" until given
    common::ToolCallAccumulator calls;
  };
  Candidate& candidate(std::int64_t index);
  void emit(boost::json::array candidates, boost::json::object* usage, std::string& out);

  std::string model_;
  std::string request_id_;
  std::string response_id_;            // the upstream's id, fixed by the first event
  std::vector<Candidate> candidates_;  // by index
  std::int64_t cached_tokens_ = 0;
};

}  // namespace anygpt::formats::gemini
