// imagefetch: fetches the http(s) image URLs of client requests and inlines them as data URLs,
// without letting a client turn anygpt against its own network (docs/IMAGE_FETCH.md).
// address_policy: PURE. Which URLs, host names and addresses may be fetched from, and why not.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace anygpt::imagefetch {

namespace asio = boost::asio;

// Which URLs may be fetched. Immutable; built from the IMAGE_FETCH_* settings.
struct UrlPolicy {
  // IMAGE_FETCH_ALLOW_PRIVATE: also private, loopback, link-local, reserved... addresses (never
  // unspecified, multicast or broadcast ones, which no TCP connection can sensibly reach).
  bool allow_private = false;
  std::vector<std::string> protocols{"http", "https"};  // lower case, without ':'
  // Empty = any host. "example.com" matches that host only; ".example.com" matches example.com
  // and every subdomain of it (the original's rule). Entries are lower case.
  std::vector<std::string> hosts;
};

// One hop's destination, parsed and checked by name. Its addresses are checked after resolution
// (address_refusal); a literal address is checked at once by parse_target.
struct Target {
  bool tls = false;
  std::string host;  // lower case, no brackets, no trailing dot; an odd IPv4 form in dotted quads
  std::uint16_t port = 0;
  std::string path;  // path and query, never empty ("/"); no fragment
  std::string host_header;
  std::optional<asio::ip::address> literal;  // set when the host is an address
};

// Error codes of refusals (policy) and failures (network, the image host's answer).
inline constexpr std::string_view kRefusedCode = "image_url_refused";
inline constexpr std::string_view kFailedCode = "image_fetch_failed";

// A kInvalidRequest error with code kRefusedCode whose message is `reason`.
core::Error refusal(std::string reason);

// The URL's scheme, host and port against the policy: a protocol not allowed, no host,
// credentials in the URL, a host outside IMAGE_FETCH_ALLOWED_HOSTS, a name such as localhost,
// *.localhost or *.local (unless allow_private), a malformed numeric host, or a literal address
// that address_refusal refuses. The error's message is the reason (it never quotes the URL).
core::Result<Target> parse_target(std::string_view url, const UrlPolicy& policy);

// What a host that ends in a number means, as browsers and inet_aton read it: 1 to 4 parts
// separated by dots (one trailing dot allowed), each decimal, octal (leading 0) or hex (0x); the
// last part fills the remaining bytes ("127.1", "2130706433", "0x7f.1", "0177.0.0.1").
enum class NumericHost { kName, kAddress, kInvalid };
NumericHost parse_numeric_ipv4(std::string_view host, asio::ip::address_v4& out);

// Why `address` may not be fetched from ("loopback address", "private address 10.0.0.1 embedded
// in a NAT64 address", ...), or nullopt. Checked as an address: IPv4-mapped, IPv4-compatible,
// IPv4-translated, NAT64 (64:ff9b::/96), 6to4 and Teredo addresses are judged by the IPv4 address
// they embed; IPv6 outside global unicast (2000::/3) is refused.
std::optional<std::string> address_refusal(const asio::ip::address& address, bool allow_private);

// The host of `url` for messages: printable ASCII only, at most 255 characters, "(no host)" or
// "(unparsable URL)" when there is none. Never the path or the query (they may hold tokens).
std::string display_host(std::string_view url);

}  // namespace anygpt::imagefetch
