// formats: the contract every client wire format implements. Each format is a folder
// (formats/<name>/) of pure codecs between its own JSON and the canonical shape the pipeline
// speaks: OpenAI chat completions (and OpenAI embeddings for embedding routes). No sockets,
// clocks or configuration in here: the pipeline passes in everything a codec needs.
#pragma once

#include <array>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/usage.hpp"

namespace anygpt::formats {

// Where a protocol's clients put their key, in the order tried.
struct KeySources {
  bool bearer = true;                         // "Authorization: Bearer <key>"
  std::array<std::string_view, 3> headers{};  // headers holding the bare key ("" = unused slot)
  std::string_view query_param;               // e.g. "key" for Gemini ("" = none)
};

// A client protocol: where its key comes from and how it renders errors.
struct Protocol {
  std::string_view name;  // "openai", "anthropic", "gemini", "groq", "ollama", "openrouter"
  KeySources keys;
  // The error body in this protocol's JSON shape; never contains a secret.
  std::string (*error_body)(const core::Error& error);
  // The HTTP status for an error (most protocols: core::http_status(error.kind)).
  unsigned (*error_status)(const core::Error& error);
  // Upstream OpenAI-shaped 4xx bodies go to the client unchanged (true only for OpenAI itself);
  // otherwise they are re-rendered with error_body.
  bool relays_upstream_errors = false;
  // Another catalogue name to try when no provider serves the model as named (e.g.
  // "openai/gpt-4o" -> "gpt-4o", "llama3:latest" -> "llama3"); empty when there is none.
  // nullptr: names are used as they are.
  std::string_view (*alternate_model)(std::string_view model) = nullptr;
};

// What the route knows besides the body.
struct RouteParams {
  std::string_view model;  // from the path (Gemini's /models/{model}:...), else empty
  bool stream = false;     // streaming decided by the path (Gemini :streamGenerateContent)
};

// Which upstream operation a canonical request is for. Everything but chat and embeddings exists on
// OpenAI hosts only (native provider protocols have those two). The last three are uploads
// (multipart/form-data bodies, see Codec::takes_form).
enum class Operation { kChat, kEmbeddings, kImages, kSpeech, kVideos, kImageEdits, kTranscriptions, kTranslations };
inline constexpr std::size_t kOperationCount = 8;

// A client request in the canonical shape.
struct Canonical {
  Operation op = Operation::kChat;
  // An OpenAI /chat/completions (or /embeddings) request object. Null when `same_bytes`.
  boost::json::value body;
  // The client's own bytes are already the canonical request (OpenAI-shaped protocols): the
  // pipeline forwards them untouched and `body` stays null.
  bool same_bytes = false;
  std::string model;  // the catalogue model asked for
  bool stream = false;
  // The client asked for OpenAI's usage-only stream chunk (only meaningful with same_bytes).
  bool include_usage = false;
  // OpenAI embeddings asked with encoding_format "base64": vectors a native provider returns as
  // floats are encoded for the client (OpenAI hosts get the request as it is).
  bool embeddings_base64 = false;
};

// Values only the pipeline knows, passed to encoders (codecs have no clock of their own).
struct Moment {
  std::int64_t wall_ms = 0;     // wall clock, ms since the Unix epoch
  std::int64_t elapsed_ns = 0;  // since the request arrived
};

struct AnswerContext {
  std::string_view model;          // the model that answers (the one asked for, or its fallback)
  std::string_view request_id;     // anygpt's request id (for ids the upstream did not give)
  bool include_usage = false;      // OpenAI clients: the client asked for the usage-only chunk
  bool embeddings_base64 = false;  // Canonical::embeddings_base64
  // The client's parsed request, for protocols whose answers echo it (a Response object repeats
  // instructions, tools, text.format...); nullptr when unknown. Valid only during the call that
  // receives it: an encoder keeping a part copies it.
  const boost::json::value* request = nullptr;
};

// What a stream relayed untouched from a provider of the client's own protocol delivered so far,
// as its StreamWatcher saw it; for the client's encoder to go on with the same message when a
// cut stream is finished on another provider.
// Text longer than this is not kept for a continuation (the cut stream then ends with its error).
inline constexpr std::size_t kMaxContinuedText = std::size_t{1} << 20;

struct StreamProgress {
  std::string_view text;     // the assistant text the client received
  bool continuable = false;  // text only so far, the text still open: no tool call, reasoning or finish
  std::size_t blocks = 0;    // content blocks begun (Anthropic); the last is the open text block
};

// Turns canonical OpenAI chat.completion.chunk objects into the client's stream, one event at
// a time (never buffering the answer: at most the state of the block being built). Owned by
// the relay of one stream; single-threaded.
class StreamEncoder {
 public:
  virtual ~StreamEncoder() = default;
  virtual std::string_view content_type() const = 0;
  // One upstream chunk (including the usage-only chunk with empty choices). Appends whatever
  // the client should receive now to `out` (possibly nothing). `chunk` lives only for the call
  // (in a per-event arena): a copy kept past it needs its own storage
  // (`json::object(chunk, json::storage_ptr{})`), since Boost.JSON copies share the source's.
  virtual void chunk(const boost::json::object& chunk, const Moment& now, std::string& out) = 0;
  // The upstream ended cleanly ([DONE] or end of body). `usage` is the provider's (or an
  // estimate of the delivered text when the provider reported none). Appends the end.
  virtual void finish(const core::Usage& usage, const Moment& now, std::string& out) = 0;
  // The upstream broke after the stream began: appends this protocol's in-stream error.
  virtual void fail(const core::Error& error, std::string& out) = 0;
  // The client already has `progress` from a stream relayed to it untouched (this encoder saw
  // none of it): carry on inside that message, so the next chunks continue its text. False when
  // this protocol cannot (the encoder is then only used to fail()).
  virtual bool resume(const StreamProgress&) { return false; }
};

// One operation of a client protocol (e.g. Anthropic messages, Gemini generateContent, Ollama
// embed). Immutable; shared by every request.
class Codec {
 public:
  virtual ~Codec() = default;
  // REQUIRES: `body` is the client's parsed JSON. Bad input gives kInvalidRequest naming the
  // field (param), in terms of the client's own protocol.
  virtual core::Result<Canonical> decode(const boost::json::value& body, const RouteParams& route) const = 0;
  // What routing needs before any translation: op, model and stream, with `body` left null. The
  // pipeline decodes fully only when a candidate needs the canonical request (not for a provider
  // of the client's own protocol, which gets the client's bytes). The default decodes fully.
  virtual core::Result<Canonical> peek(const boost::json::value& body, const RouteParams& route) const {
    return decode(body, route);
  }
  // True when upstream answers go to the client byte for byte (OpenAI-shaped protocols):
  // encode() and stream() are then never called.
  virtual bool relays_answer() const { return false; }
  // True for uploads: the body is multipart/form-data, kept as the client sent it (it goes
  // upstream as it is, only the model renamed) and given to decode() as an object of its fields:
  // text fields as strings, file fields as {"filename", "content_type", "bytes"}, a name sent
  // more than once as an array of those (formats::common::form_fields).
  virtual bool takes_form() const { return false; }
  // A canonical OpenAI answer (chat.completion, or an embeddings list) as the client's body.
  virtual std::string encode(const boost::json::object& answer, const AnswerContext& ctx, const Moment& now) const = 0;
  // The client's content type for encode()'s bodies.
  virtual std::string_view content_type() const { return "application/json"; }
  // A fresh stream encoder (only called when decode() said stream).
  virtual std::unique_ptr<StreamEncoder> stream(const AnswerContext& ctx) const = 0;
};

}  // namespace anygpt::formats
