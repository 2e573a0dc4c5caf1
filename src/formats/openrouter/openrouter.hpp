// formats/openrouter: the OpenRouter API (/v6, @openrouter/sdk): OpenAI chat as sent, with
// vendor-prefixed model ids ("openai/gpt-4o") resolved to the catalogue's "gpt-4o" when no model
// has the prefixed id, answers normalised to the SDK's strict (zod) schemas, and OpenRouter's
// error shape {"error":{"code":<HTTP status>,"message"}}.
#pragma once

#include <string>
#include <vector>

#include "formats/codec.hpp"
#include "formats/common/chunks.hpp"

namespace anygpt::formats::openrouter {

const Protocol& protocol();
const Codec& chat_codec();

// "openai/gpt-4o" -> "gpt-4o"; "" for an id without a vendor prefix.
std::string_view unprefixed_model(std::string_view model);

// GET /v6/models: {"data":[{"id","canonical_slug","name","created","description","context_length",
// "architecture","pricing","top_provider","supported_parameters",...}]}.
std::string models_body(const std::vector<common::ModelInfo>& models);

}  // namespace anygpt::formats::openrouter
