#include "pipeline/continuation.hpp"

#include <boost/json.hpp>

#include "formats/openai/capabilities.hpp"
#include "formats/openai/openai.hpp"

namespace anygpt::pipeline {
namespace json = boost::json;
namespace oai = formats::openai;

namespace {

// A canonical chat request with one choice.
bool one_chat(const json::value* object) {
  const auto* request = object ? object->if_object() : nullptr;
  if (!request) return false;
  const auto* messages = request->if_contains("messages");
  if (!messages || !messages->is_array()) return false;
  const auto* n = request->if_contains("n");
  return !n || n->is_null() || (n->is_int64() && n->get_int64() == 1) || (n->is_uint64() && n->get_uint64() == 1);
}

}  // namespace

bool continuable(const Job& job) {
  if (job.canon.op != formats::Operation::kChat) return false;
  return job.object ? one_chat(job.object) : job.client_object != nullptr;  // (decoded by prefill())
}

bool accepts_prefill(const routing::Catalog& catalog, std::string_view model, const routing::Candidate& c) {
  if (c.skipped_caps & oai::kAssistantPrefill) return false;
  switch (c.provider->provider.protocol) {
    case config::ProviderProtocol::kAnthropic:
    case config::ProviderProtocol::kGemini:
    case config::ProviderProtocol::kOllama: return true;
    case config::ProviderProtocol::kOpenAI: return (catalog.rule(model).declared_caps & oai::kAssistantPrefill) != 0;
    case config::ProviderProtocol::kOpenAIResponses: return false;
  }
  return false;
}

void add_cut(Seam& seam, std::string text, std::int64_t billed, const core::Error& error,
             std::unique_ptr<formats::StreamEncoder> encoder) {
  if (!seam.active) seam.failure = error;
  seam.active = true;
  ++seam.cuts;
  seam.text += seam.overlap;  // the client has it: the next prefill may end in other whitespace
  seam.overlap.clear();
  seam.text += text;
  seam.billed += billed;
  if (encoder) seam.encoder = std::move(encoder);
}

bool prefill(Job& job, Seam& seam) {
  if (!job.object) {  // never decoded (every candidate spoke the client's protocol): decode it now
    auto canon = job.codec.decode(*job.client_object, job.params);
    if (!canon || canon->same_bytes) return false;
    job.canon = std::move(*canon);
    job.object = &job.canon.body;
    if (!one_chat(job.object)) return false;
  }
  auto keep = seam.text.find_last_not_of(" \t\r\n");
  seam.overlap = seam.text.substr(keep + 1);
  seam.text.resize(keep + 1);
  auto& messages = job.object->get_object()["messages"].get_array();
  if (job.continuing) messages.pop_back();  // the previous continuation's prefill
  json::object assistant;
  assistant["role"] = "assistant";
  assistant["content"] = seam.text;
  messages.emplace_back(std::move(assistant));
  job.continuing = true;
  // The bytes for OpenAI-compatible hosts are made again from the changed request.
  job.canonical_bytes = json::serialize(*job.object);
  job.bytes = job.canonical_bytes;
  const auto* model = job.object->get_object().if_contains("model");
  job.bytes_model = model && model->is_string() ? std::string(model->get_string()) : std::string();
  return true;
}

boost::asio::awaitable<void> end_cut(server::Exchange& ex, Seam& seam) {
  if (ex.client_gone()) co_return;
  std::string event;
  if (seam.encoder)
    seam.encoder->fail(seam.failure, event);
  else
    event = oai::stream_error_event(seam.failure);
  const bool written = co_await ex.write_chunk(event);
  if (written) co_await ex.end_stream();
}

}  // namespace anygpt::pipeline
