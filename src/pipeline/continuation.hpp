// pipeline/continuation: a stream cut mid-answer is finished on another candidate by assistant
// prefill (docs/ROUTING.md, "Continuing a cut stream"). The Seam is what a cut part leaves for the
// attempts after it; the functions are the rules: which requests and candidates may continue,
// and the continuation request. Internal to the pipeline.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "formats/codec.hpp"
#include "pipeline/attempt.hpp"
#include "routing/catalog.hpp"
#include "server/exchange.hpp"

namespace anygpt::pipeline {

// Owned by run_attempts for one request.
struct Seam {
  bool active = false;  // a stream was cut after content: the next attempts continue it
  int cuts = 0;         // parts cut so far
  // The client's stream encoder, mid-message; null when the client's stream was relayed as
  // bytes (OpenAI-shaped clients: a continuation that needs an encoder makes a fresh one).
  std::unique_ptr<formats::StreamEncoder> encoder;
  std::string text;         // the assistant text the client has received
  std::string overlap;      // whitespace cut from text's end for the prefill: not repeated to the client
  std::int64_t billed = 0;  // completion tokens billed for the parts before the seam
  core::Error failure;      // what cut the first part: the client's error when nothing continues
};

// Prefills longer than this are not continued (the cut stream ends with its error).
inline constexpr std::size_t kMaxPrefillBytes = formats::kMaxContinuedText;

// A stream of this request can be continued: a chat request with one choice (one not decoded
// yet is decoded by prefill()).
bool continuable(const Job& job);

// Candidate `c` of `model` accepts a prefill: never when its capability_skips list
// assistant_prefill; Anthropic, Gemini and Ollama providers by default; an OpenAI-compatible host
// only for a model whose models.json capabilities list assistant_prefill (OpenAI's own API
// answers a trailing assistant message anew instead of continuing it).
bool accepts_prefill(const routing::Catalog& catalog, std::string_view model, const routing::Candidate& c);

// Records a cut part: its text, what was billed for it, the first failure and (when the part had
// one of its own) the client's encoder.
void add_cut(Seam& seam, std::string text, std::int64_t billed, const core::Error& error,
             std::unique_ptr<formats::StreamEncoder> encoder);

// Makes the job the continuation request: the canonical messages plus the seam's text, trailing
// whitespace trimmed (Anthropic refuses it; seam.overlap keeps it), as a final assistant message,
// sent to every candidate in its own protocol (never as the client's own bytes). False when the
// request cannot be continued after all (it decodes to several choices). REQUIRES:
// continuable(job), seam.active.
bool prefill(Job& job, Seam& seam);

// Ends a cut stream nothing continued: the first failure as the protocol's in-band error, no
// clean end ([DONE], message_stop...).
boost::asio::awaitable<void> end_cut(server::Exchange& ex, Seam& seam);

}  // namespace anygpt::pipeline
