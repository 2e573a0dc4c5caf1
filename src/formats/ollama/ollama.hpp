// formats/ollama: Ollama's native API (/v5, ollama-js): chat, generate and embedding codecs over
// the canonical OpenAI shape (NDJSON streams), plus the bodies of /api/tags, /api/show and
// /api/version. Pure: the pipeline passes in clocks and catalogue entries.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "formats/codec.hpp"
#include "formats/common/chunks.hpp"

namespace anygpt::formats::ollama {

// Bearer key, {"error":"<message>"} bodies, core::http_status, "<model>:latest" retried as "<model>".
const Protocol& protocol();

// POST /api/chat: a body without "stream" streams (Ollama's default), "stream":false answers once.
const Codec& chat_codec();
// POST /api/generate: prompt (+ system, images) as a one-turn chat.
const Codec& generate_codec();
// POST /api/embed {model, input: string|string[], dimensions?, truncate?} -> Operation::kEmbeddings.
const Codec& embed_codec();
// POST /api/embeddings (legacy) {model, prompt} -> {"embedding":[...]}.
const Codec& embeddings_codec();

// GET /api/tags: {"models":[{name, model, modified_at, size, digest, details}]}.
std::string tags_body(const std::vector<common::ModelInfo>& models);
// POST /api/show: {license, modelfile, parameters, template, details, model_info, capabilities, modified_at}.
std::string show_body(const common::ModelInfo& model);
// GET /api/version: {"version":"0.6.4"}.
std::string version_body();

// `requested` without a trailing ":latest" (Ollama's default tag); unchanged otherwise.
std::string_view model_name(std::string_view requested);
// The model named by a /api/show body: "model", else the legacy "name" (kInvalidRequest when neither).
core::Result<std::string> show_model(const boost::json::value& body);

}  // namespace anygpt::formats::ollama
