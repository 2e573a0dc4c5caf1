#include "imagefetch/sniff.hpp"

#include <array>

#include "imagefetch/address_policy.hpp"

namespace anygpt::imagefetch {
namespace {

struct Magic {
  std::size_t offset;
  std::string_view bytes;
  std::string_view mime;
};

using namespace std::string_view_literals;

// ISO-BMFF images (avif, heic, heif) are an "ftyp" box whose major brand names the type.
constexpr std::array<Magic, 16> kMagic{{
    {0, "\x89PNG\r\n\x1a\n"sv, "image/png"},
    {0, "\xff\xd8\xff"sv, "image/jpeg"},
    {0, "GIF87a"sv, "image/gif"},
    {0, "GIF89a"sv, "image/gif"},
    {8, "WEBP"sv, "image/webp"},  // after "RIFF" + size (checked below)
    {0, "BM"sv, "image/bmp"},
    {0, "\x00\x00\x01\x00"sv, "image/x-icon"},
    {4, "ftypavif"sv, "image/avif"},
    {4, "ftypavis"sv, "image/avif"},
    {4, "ftypheic"sv, "image/heic"},
    {4, "ftypheix"sv, "image/heic"},
    {4, "ftyphevc"sv, "image/heic"},
    {4, "ftyphevx"sv, "image/heic"},
    {4, "ftypmif1"sv, "image/heif"},
    {4, "ftypmsf1"sv, "image/heif"},
    {4, "ftypheim"sv, "image/heif"},
}};

// The image types a Content-Type may name (image/jpg and image/pjpeg are common misspellings).
constexpr std::array<std::string_view, 15> kImageTypes{
    "image/png",  "image/jpeg", "image/jpg",      "image/pjpeg",         "image/gif",
    "image/webp", "image/bmp",  "image/x-ms-bmp", "image/x-icon",        "image/vnd.microsoft.icon",
    "image/avif", "image/heic", "image/heif",     "image/heic-sequence", "image/heif-sequence"};

constexpr std::array<std::string_view, 3> kGenericTypes{"", "application/octet-stream", "binary/octet-stream"};

// The media type of a Content-Type value: lower case, parameters and white space removed.
std::string media_type(std::string_view content_type) {
  auto semi = content_type.find(';');
  auto t = content_type.substr(0, semi);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  std::string out(t);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

template <std::size_t N>
bool listed(const std::array<std::string_view, N>& list, std::string_view v) {
  for (auto e : list)
    if (e == v) return true;
  return false;
}

}  // namespace

std::optional<std::string_view> sniff_image(std::string_view head) {
  for (const auto& m : kMagic) {
    if (head.size() < m.offset + m.bytes.size() || head.substr(m.offset, m.bytes.size()) != m.bytes) continue;
    if (m.mime == "image/webp" && !head.starts_with("RIFF")) continue;
    // "BM" alone starts too much text: a bitmap file header's reserved bytes 6-9 are zero.
    if (m.mime == "image/bmp" && (head.size() < 10 || head.substr(6, 4) != "\0\0\0\0"sv)) continue;
    return m.mime;
  }
  return std::nullopt;
}

std::optional<std::string> content_type_refusal(std::string_view content_type) {
  auto type = media_type(content_type);
  if (listed(kImageTypes, type) || listed(kGenericTypes, type)) return std::nullopt;
  std::string shown;
  for (char c : std::string_view(type).substr(0, 100)) shown += c > 0x20 && c < 0x7f ? c : '?';
  if (type.starts_with("image/")) return "content type '" + shown + "' is not an image type anygpt inlines";
  return "content type '" + shown + "' is not an image type";
}

core::Result<std::string_view> image_mime(std::string_view content_type, std::string_view head) {
  if (auto why = content_type_refusal(content_type)) return refusal(*why);
  auto mime = sniff_image(head);
  if (!mime)
    return refusal("the body is not an image (its first bytes are no png, jpeg, gif, webp, bmp, ico, avif or heic)");
  return *mime;
}

}  // namespace anygpt::imagefetch
