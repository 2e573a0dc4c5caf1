// formats/openai/reshape: the base of OpenAI-dialect protocols (Groq, OpenRouter) whose
// requests are canonical as sent but whose answers need a few fields added or normalised.
// Answers and chunks are parsed, reshaped by the dialect and re-serialised, one at a time.
#pragma once

#include "formats/codec.hpp"

namespace anygpt::formats::openai {

class ReshapingCodec : public Codec {
 public:
  // Validates like /v1 (inspect_chat_request) and forwards the client's bytes (same_bytes).
  core::Result<Canonical> decode(const boost::json::value& body, const RouteParams& route) const override;
  std::string encode(const boost::json::object& answer, const AnswerContext& ctx, const Moment& now) const override;
  std::unique_ptr<StreamEncoder> stream(const AnswerContext& ctx) const override;

  // The dialect's changes to a whole chat.completion.
  virtual void reshape_answer(boost::json::object& answer, const AnswerContext& ctx, const Moment& now) const = 0;
  // The dialect's changes to a stream chunk about to be sent; `first`: the stream's first one.
  virtual void reshape_chunk(boost::json::object& chunk, bool first, const AnswerContext& ctx,
                             const Moment& now) const = 0;
  // The dialect's in-stream error event (default: OpenAI's `data: {"error":{...}}`).
  virtual std::string error_event(const core::Error& error) const;
};

}  // namespace anygpt::formats::openai
