#include "imagefetch/address_policy.hpp"

#include <array>
#include <boost/url/parse.hpp>
#include <cctype>
#include <charconv>

namespace anygpt::imagefetch {
namespace {

using core::ErrorKind;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool is_digits(std::string_view s, int base) {
  for (char c : s) {
    bool ok =
        base == 16 ? std::isxdigit(static_cast<unsigned char>(c)) != 0 : c >= '0' && c < static_cast<char>('0' + base);
    if (!ok) return false;
  }
  return true;
}

bool hex_prefixed(std::string_view s) {
  return s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

// One part of a numeric host: decimal, octal (leading 0) or hex (0x, possibly empty).
std::optional<std::uint64_t> numeric_part(std::string_view s) {
  int base = 10;
  if (hex_prefixed(s)) {
    base = 16;
    s.remove_prefix(2);
    if (s.empty()) return 0;
  } else if (s.size() > 1 && s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 24 || !is_digits(s, base)) return std::nullopt;
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n, base);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return n;
}

// An IPv4 or IPv6 range and what it is.
struct Range4 {
  std::uint32_t prefix;
  int bits;
  const char* what;
  bool never;  // refused even with allow_private
};

constexpr std::uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return a << 24 | b << 16 | c << 8 | d;
}

// First match wins (the narrower ranges come first). RFC 6890 and the IANA special-purpose registry.
constexpr std::array<Range4, 18> kRanges4{{
    {v4(0, 0, 0, 0), 32, "unspecified address", true},
    {v4(0, 0, 0, 0), 8, "this-network address (0.0.0.0/8)", false},
    {v4(10, 0, 0, 0), 8, "private address", false},
    {v4(100, 64, 0, 0), 10, "shared (CGNAT) address", false},
    {v4(127, 0, 0, 0), 8, "loopback address", false},
    {v4(169, 254, 0, 0), 16, "link-local address", false},
    {v4(172, 16, 0, 0), 12, "private address", false},
    {v4(192, 0, 0, 0), 24, "reserved address (IETF protocol assignments)", false},
    {v4(192, 0, 2, 0), 24, "documentation address", false},
    {v4(192, 88, 99, 0), 24, "reserved address (6to4 relay anycast)", false},
    {v4(192, 168, 0, 0), 16, "private address", false},
    {v4(198, 18, 0, 0), 15, "reserved address (benchmarking)", false},
    {v4(198, 51, 100, 0), 24, "documentation address", false},
    {v4(203, 0, 113, 0), 24, "documentation address", false},
    {v4(224, 0, 0, 0), 4, "multicast address", true},
    {v4(255, 255, 255, 255), 32, "broadcast address", true},
    {v4(240, 0, 0, 0), 4, "reserved address (240.0.0.0/4)", false},
    {v4(0, 0, 0, 0), 0, nullptr, false},  // public
}};

const Range4& classify4(const asio::ip::address_v4& a) {
  auto n = a.to_uint();
  for (const auto& r : kRanges4) {
    std::uint32_t mask = r.bits == 0 ? 0 : ~std::uint32_t{0} << (32 - r.bits);
    if ((n & mask) == (r.prefix & mask)) return r;
  }
  return kRanges4.back();
}

using Bytes6 = asio::ip::address_v6::bytes_type;

bool has_prefix(const Bytes6& b, std::initializer_list<unsigned> prefix, int bits) {
  int i = 0;
  for (unsigned byte : prefix) {
    int take = std::min(8, bits - i * 8);
    if (take <= 0) break;
    unsigned mask = (0xffu << (8 - take)) & 0xffu;
    if ((b[i] & mask) != (byte & mask)) return false;
    ++i;
  }
  return true;
}

asio::ip::address_v4 v4_at(const Bytes6& b, std::size_t at, bool inverted = false) {
  asio::ip::address_v4::bytes_type out{};
  for (std::size_t i = 0; i < 4; ++i) out[i] = static_cast<unsigned char>(inverted ? ~b[at + i] : b[at + i]);
  return asio::ip::address_v4(out);
}

std::optional<std::string> refusal4(const asio::ip::address_v4& a, bool allow_private) {
  const auto& r = classify4(a);
  if (!r.what || (allow_private && !r.never)) return std::nullopt;
  return std::string(r.what);
}

// The refusal of an IPv4 address embedded in an IPv6 one, naming both.
std::optional<std::string> embedded(const asio::ip::address_v4& a, const char* how, bool allow_private) {
  auto why = refusal4(a, allow_private);
  if (!why) return std::nullopt;
  why->append(" ").append(a.to_string()).append(" embedded in ").append(how);
  return why;
}

std::optional<std::string> refusal6(const asio::ip::address_v6& a, bool allow_private) {
  const Bytes6 b = a.to_bytes();
  auto fixed = [&](const char* what, bool never = false) -> std::optional<std::string> {
    if (allow_private && !never) return std::nullopt;
    return std::string(what);
  };
  if (a.is_unspecified()) return fixed("unspecified address (::)", true);
  if (a.is_loopback()) return fixed("loopback address (::1)");
  if (has_prefix(b, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96))
    return embedded(v4_at(b, 12), "an IPv4-mapped IPv6 address", allow_private);
  if (has_prefix(b, {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}, 96))
    return embedded(v4_at(b, 12), "an IPv4-translated IPv6 address", allow_private);
  if (has_prefix(b, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 96))
    return embedded(v4_at(b, 12), "an IPv4-compatible IPv6 address", allow_private);
  if (has_prefix(b, {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}, 96))
    return embedded(v4_at(b, 12), "a NAT64 address (64:ff9b::/96)", allow_private);
  if (has_prefix(b, {0x20, 0x02}, 16)) return embedded(v4_at(b, 2), "a 6to4 address (2002::/16)", allow_private);
  if (has_prefix(b, {0x20, 0x01, 0, 0}, 32)) {  // Teredo: server at bytes 4-7, client inverted at 12-15
    if (auto why = embedded(v4_at(b, 12, true), "a Teredo address (2001::/32)", allow_private)) return why;
    return embedded(v4_at(b, 4), "a Teredo address's server part", allow_private);
  }
  if (has_prefix(b, {0xff}, 8)) return fixed("multicast address", true);
  if (has_prefix(b, {0x20, 0x01, 0x0d, 0xb8}, 32) || has_prefix(b, {0x3f, 0xff, 0x00}, 20))
    return fixed("documentation address");
  if (has_prefix(b, {0x20, 0x01, 0x00}, 23)) return fixed("reserved address (IETF protocol assignments)");
  if (has_prefix(b, {0xfc}, 7)) return fixed("private address (unique local fc00::/7)");
  if (has_prefix(b, {0xfe, 0x80}, 10)) return fixed("link-local address");
  if (has_prefix(b, {0xfe, 0xc0}, 10)) return fixed("site-local address (deprecated)");
  if (!has_prefix(b, {0x20}, 3)) return fixed("reserved address (outside global unicast 2000::/3)");
  return std::nullopt;
}

bool is_local_name(std::string_view host) {
  return host == "localhost" || host.ends_with(".localhost") || host.ends_with(".local");
}

bool host_allowed(const std::string& host, const std::vector<std::string>& hosts) {
  if (hosts.empty()) return true;
  for (const auto& h : hosts) {
    if (h == host) return true;
    if (h.size() > 1 && h.front() == '.' && (host == std::string_view(h).substr(1) || host.ends_with(h))) return true;
  }
  return false;
}

// A host name's characters: what DNS names can hold (letters, digits, '-', '_', '.').
std::optional<std::string> bad_name(std::string_view name) {
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) return "non-ASCII host names must be sent in their punycode (xn--) form";
    if (!std::isalnum(u) && c != '-' && c != '_' && c != '.')
      return "the host name has characters DNS names cannot have";
  }
  return std::nullopt;
}

core::Result<std::uint16_t> url_port(const boost::urls::url_view& u, bool tls) {
  if (!u.has_port() || u.port().empty()) return static_cast<std::uint16_t>(tls ? 443 : 80);
  auto p = u.port();
  unsigned n = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
  if (ec != std::errc{} || end != p.data() + p.size() || n == 0 || n > 65535) return refusal("the port is not valid");
  return static_cast<std::uint16_t>(n);
}

}  // namespace

core::Error refusal(std::string reason) {
  return core::make_error(ErrorKind::kInvalidRequest, std::move(reason), {}, std::string(kRefusedCode));
}

NumericHost parse_numeric_ipv4(std::string_view host, asio::ip::address_v4& out) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    auto dot = host.find('.', start);
    parts.push_back(host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts.size() > 1 && parts.back().empty()) parts.pop_back();
  const auto last = parts.back();
  bool ends_in_number = (!last.empty() && is_digits(last, 10)) || (hex_prefixed(last) && is_digits(last.substr(2), 16));
  if (!ends_in_number) return NumericHost::kName;
  if (parts.size() > 4) return NumericHost::kInvalid;
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto n = numeric_part(parts[i]);
    if (!n) return NumericHost::kInvalid;
    bool is_last = i + 1 == parts.size();
    std::uint64_t limit = is_last ? std::uint64_t{1} << (8 * (5 - parts.size())) : 256;
    if (*n >= limit) return NumericHost::kInvalid;
    value = is_last ? value | *n : value | *n << (8 * (3 - i));
  }
  out = asio::ip::address_v4(static_cast<std::uint32_t>(value));
  return NumericHost::kAddress;
}

std::optional<std::string> address_refusal(const asio::ip::address& address, bool allow_private) {
  if (address.is_v4()) return refusal4(address.to_v4(), allow_private);
  return refusal6(address.to_v6(), allow_private);
}

core::Result<Target> parse_target(std::string_view url, const UrlPolicy& policy) {
  auto r = boost::urls::parse_uri(url);
  if (!r) return refusal("not a valid absolute URL");
  const auto scheme = lower(r->scheme());
  bool listed = false;
  for (const auto& p : policy.protocols) listed = listed || p == scheme;
  if (!listed || (scheme != "http" && scheme != "https"))
    return refusal("protocol '" + scheme + "' is not allowed (IMAGE_FETCH_ALLOWED_PROTOCOLS)");
  if (r->has_userinfo()) return refusal("URLs with credentials (user@host) are not fetched");
  if (!r->has_authority() || r->encoded_host().empty()) return refusal("the URL has no host");
  // After an authority the path is empty or starts with '/' (RFC 3986 path-abempty). Boost.URL
  // 1.81 reads "http://1.2.3.4.5/" as host 1.2.3.4 and path ".5/": such a URL is refused, never
  // fetched from an address other than the one its host names.
  if (!r->encoded_path().empty() && r->encoded_path().front() != '/') return refusal("not a valid absolute URL");
  Target t;
  t.tls = scheme == "https";
  auto port = url_port(*r, t.tls);
  if (!port) return port.error();
  t.port = *port;
  switch (r->host_type()) {
    case boost::urls::host_type::ipv4: t.literal = asio::ip::address_v4(r->host_ipv4_address().to_bytes()); break;
    case boost::urls::host_type::ipv6: t.literal = asio::ip::address_v6(r->host_ipv6_address().to_bytes()); break;
    case boost::urls::host_type::name: {
      t.host = lower(r->host_name());
      if (auto bad = bad_name(t.host)) return refusal(*bad);
      if (t.host.size() > 1 && t.host.back() == '.') t.host.pop_back();
      asio::ip::address_v4 numeric;
      auto kind = parse_numeric_ipv4(t.host, numeric);
      if (kind == NumericHost::kInvalid) return refusal("the host is a malformed numeric address");
      if (kind == NumericHost::kAddress) t.literal = numeric;
      break;
    }
    default: return refusal("the host form is not supported");
  }
  if (t.literal) t.host = t.literal->to_string();
  if (!host_allowed(t.host, policy.hosts)) return refusal("the host is not in IMAGE_FETCH_ALLOWED_HOSTS");
  if (!t.literal && !policy.allow_private && is_local_name(t.host))
    return refusal("local host names (localhost, *.localhost, *.local) are not fetched");
  if (t.literal)
    if (auto why = address_refusal(*t.literal, policy.allow_private)) return refusal("the host is a " + *why);
  t.path = std::string_view(r->encoded_path());
  if (t.path.empty()) t.path = "/";
  if (r->has_query()) t.path.append("?").append(std::string_view(r->encoded_query()));
  t.host_header = t.literal && t.literal->is_v6() ? "[" + t.host + "]" : t.host;
  if (t.port != (t.tls ? 443 : 80)) t.host_header.append(":").append(std::to_string(t.port));
  return t;
}

std::string display_host(std::string_view url) {
  auto r = boost::urls::parse_uri(url);
  if (!r) return "(unparsable URL)";
  std::string_view host = std::string_view(r->encoded_host());
  if (host.empty()) return "(no host)";
  std::string out;
  for (char c : host.substr(0, 255)) out += c > 0x20 && c < 0x7f ? c : '?';
  return out;
}

}  // namespace anygpt::imagefetch
