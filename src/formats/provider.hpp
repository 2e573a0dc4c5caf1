// formats: the contract of a provider (upstream) wire protocol: the mirror of codec.hpp. A
// ProviderCodec turns the canonical request (OpenAI chat completions or embeddings) into the
// provider's own request, and the provider's answers and streams back into canonical OpenAI
// objects. Pure: no sockets, clocks or configuration; the pipeline adds the URL base and auth.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/usage.hpp"
#include "formats/codec.hpp"

namespace anygpt::formats {

// What the pipeline says about one upstream call.
struct UpstreamCall {
  Operation op = Operation::kChat;
  std::string_view model;                  // the provider's name of the model
  bool stream = false;                     // the canonical request streams
  std::int64_t default_max_tokens = 4096;  // for protocols that require max_tokens (Anthropic)
};

// Turns a provider's stream (raw body bytes, as they arrive, split anywhere) into canonical
// OpenAI chat.completion.chunk objects: a first chunk with delta.role "assistant", content and
// tool-call deltas (tool calls with "index", and "id"/"type"/"function.name" on their first
// fragment), a chunk with finish_reason, and a last usage-only chunk ("choices":[], "usage").
// Owned by one relay; single-threaded.
class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  // Appends to `chunks` the canonical chunks that `bytes` completes (each with its own storage).
  // Returns an error (kUpstreamError, or kUpstreamUnavailable for an overload) when the stream
  // carries the protocol's in-band error (Anthropic `event: error`, a Gemini error object, an
  // Ollama {"error"} line); nothing more is fed after that.
  virtual std::optional<core::Error> feed(std::string_view bytes, std::vector<boost::json::object>& chunks) = 0;
  // True once the protocol's end signal arrived (message_stop, a Gemini chunk with finishReason,
  // an Ollama line with done:true). A body that ends before it is a broken stream.
  virtual bool complete() const = 0;
};

// Watches a provider's stream that goes to a client of the same protocol byte for byte: learns
// what the relay needs (usage, in-band errors, the end signal, how much text went by) and parses
// in full only the events that carry usage, errors or the end; the rest get one SAX pass.
// Owned by one relay; single-threaded.
class StreamWatcher {
 public:
  virtual ~StreamWatcher() = default;
  // The same error contract as StreamDecoder::feed.
  virtual std::optional<core::Error> feed(std::string_view bytes) = 0;
  // The same end signal as StreamDecoder::complete.
  virtual bool complete() const = 0;
  // The usage the provider reported, once the stream is complete (present == false: none, or not
  // complete: a broken stream is billed by what was delivered, as with a decoder).
  virtual core::Usage usage() const = 0;
  // Code points of the text and tool-call arguments that went by (billing without usage).
  virtual std::size_t delivered_chars() const = 0;
  // The id of the object the stream's provider stores (a Response's id), once seen; "" when the
  // protocol stores nothing.
  virtual std::string_view stored_id() const { return {}; }
  // What the client received so far, for continuing a cut stream; the default: not continuable.
  virtual StreamProgress progress() const { return {}; }
};

// One provider protocol. Immutable; shared by every request.
class ProviderCodec {
 public:
  virtual ~ProviderCodec() = default;
  // The path appended to the provider's base URL ("/v1/messages",
  // "/models/gemini-2.0-flash:streamGenerateContent?alt=sse", "/api/chat", "/api/embed").
  virtual std::string path(const UpstreamCall& call) const = 0;
  // REQUIRES: `canonical` is an OpenAI chat-completions (op kChat) or embeddings (kEmbeddings)
  // request the client side produced. What the protocol cannot express follows the written
  // policy (docs/PROTOCOLS.md): dropped, or kInvalidRequest naming the field.
  virtual core::Result<std::string> encode_request(const boost::json::object& canonical,
                                                   const UpstreamCall& call) const = 0;
  // A 2xx body as a canonical chat.completion (kChat) or OpenAI embeddings list (kEmbeddings);
  // kUpstreamError when it is not the protocol's answer.
  virtual core::Result<boost::json::object> decode_answer(std::string_view body, const UpstreamCall& call) const = 0;
  virtual std::unique_ptr<StreamDecoder> stream_decoder(const UpstreamCall& call) const = 0;
  // For a stream relayed untouched to a client of this same protocol.
  virtual std::unique_ptr<StreamWatcher> stream_watcher(const UpstreamCall& call) const = 0;
  // The usage of a 2xx answer that goes to a client of this same protocol untouched, read
  // without translating the answer; nullopt when the body is not the protocol's answer.
  virtual std::optional<core::Usage> answer_usage(std::string_view body, const UpstreamCall& call) const = 0;
  // The human-readable message of one of the provider's error bodies ("" when there is none), for
  // relaying a 4xx the client caused.
  virtual std::string error_message(std::string_view body) const = 0;
  // The id of what the provider stores from a 2xx answer, for later reads (a Response's id); ""
  // when the protocol stores nothing.
  virtual std::string stored_id(std::string_view) const { return {}; }
};

}  // namespace anygpt::formats
