// imagefetch/sniff: PURE. Which image a body is, from its magic bytes, and whether the image host's
// Content-Type allows it to be inlined at all.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace anygpt::imagefetch {

// How many leading bytes sniff_image() needs to tell every type apart.
inline constexpr std::size_t kSniffBytes = 12;

// The MIME type of the image `head` (a body's first bytes) begins: png, jpeg, gif, webp, bmp, ico,
// avif, heic or heif; nullopt for anything else (HTML, SVG, text, a body shorter than its magic).
std::optional<std::string_view> sniff_image(std::string_view head);

// Whether a Content-Type header may announce an image: an image/* type anygpt can inline, or a
// generic one that says nothing (absent, application/octet-stream, binary/octet-stream). The
// reason otherwise ("content type 'text/html' is not an image type"). Checked before the body.
std::optional<std::string> content_type_refusal(std::string_view content_type);

// The MIME type to inline a body as: the type its magic bytes show (it wins over a declared image
// type that disagrees, as the original did). kRefusedCode error when the declared type is refused
// or the bytes are no supported image.
core::Result<std::string_view> image_mime(std::string_view content_type, std::string_view head);

}  // namespace anygpt::imagefetch
