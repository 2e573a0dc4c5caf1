// imagefetch: the address policy (a table of hostile URLs, each refused with its reason), magic
// bytes, and the fetcher against a real loopback HTTP server with a fake name resolver.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <map>

#include "core/watchdog.hpp"
#include "imagefetch/address_policy.hpp"
#include "imagefetch/fetcher.hpp"
#include "imagefetch/inline_images.hpp"
#include "imagefetch/sniff.hpp"
#include "upstream/client.hpp"

namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using namespace anygpt::imagefetch;
using namespace std::chrono_literals;
using namespace std::string_literals;
using tcp = asio::ip::tcp;

// ---------------------------------------------------------------------------------------------
// Address policy

struct Hostile {
  const char* url;
  const char* reason;  // a part of the refusal's message
};

const Hostile kHostile[] = {
    // IPv4 ranges
    {"http://127.0.0.1/a.png", "loopback address"},
    {"http://127.255.255.254/", "loopback address"},
    {"http://10.1.2.3/", "private address"},
    {"http://172.16.0.1/", "private address"},
    {"http://172.31.255.255/", "private address"},
    {"http://192.168.1.1/", "private address"},
    {"http://169.254.169.254/latest/meta-data/", "link-local address"},
    {"http://100.64.0.1/", "shared (CGNAT) address"},
    {"http://100.127.255.255/", "shared (CGNAT) address"},
    {"http://224.0.0.1/", "multicast address"},
    {"http://239.255.255.250/", "multicast address"},
    {"http://240.0.0.1/", "reserved address"},
    {"http://255.255.255.255/", "broadcast address"},
    {"http://192.0.0.8/", "reserved address (IETF protocol assignments)"},
    {"http://192.88.99.1/", "reserved address (6to4 relay anycast)"},
    {"http://198.18.0.1/", "reserved address (benchmarking)"},
    {"http://192.0.2.1/", "documentation address"},
    {"http://198.51.100.7/", "documentation address"},
    {"http://203.0.113.9/", "documentation address"},
    {"http://0.0.0.0/", "unspecified address"},
    {"http://0/", "unspecified address"},
    {"http://0.1.2.3/", "this-network address"},
    // The odd IPv4 forms browsers and inet_aton accept
    {"http://2130706433/", "loopback address"},
    {"http://0177.0.0.1/", "loopback address"},
    {"http://0x7f.1/", "loopback address"},
    {"http://0x7F000001/", "loopback address"},
    {"http://017700000001/", "loopback address"},
    {"http://127.1/", "loopback address"},
    {"http://127.0.1/", "loopback address"},
    {"http://0xa9.0xfe.0xa9.0xfe/", "link-local address"},
    {"http://3232235777/", "private address"},
    {"http://127.0.0.1./", "not a valid absolute URL"},  // (read as host 127.0.0.1, path "./")
    {"http://%31%32%37.0.0.1/", "loopback address"},
    // Malformed numeric hosts
    {"http://256.0.0.1/", "malformed numeric address"},
    {"http://1.2.3.4.5/", "not a valid absolute URL"},  // (Boost.URL 1.81 reads host 1.2.3.4 here)
    {"http://127.0.0.1.nip.io.evil/", "not a valid absolute URL"},
    {"http://8.8.8.8x/", "not a valid absolute URL"},
    {"http://1.2.3.4.5.6", "not a valid absolute URL"},
    {"http://08.0.0.1/", "malformed numeric address"},
    {"http://0x100.1/", "malformed numeric address"},
    {"http://4294967296/", "malformed numeric address"},
    {"http://foo.1/", "malformed numeric address"},
    // IPv6, and IPv6 embedding IPv4
    {"http://[::1]/", "loopback address (::1)"},
    {"http://[::]/", "unspecified address (::)"},
    {"http://[::ffff:127.0.0.1]/", "loopback address 127.0.0.1 embedded in an IPv4-mapped IPv6 address"},
    {"http://[::ffff:7f00:1]/", "loopback address 127.0.0.1 embedded in an IPv4-mapped"},
    {"http://[0:0:0:0:0:ffff:a9fe:a9fe]/", "link-local address 169.254.169.254 embedded in an IPv4-mapped"},
    {"http://[::ffff:0:10.0.0.1]/", "private address 10.0.0.1 embedded in an IPv4-translated"},
    {"http://[::127.0.0.1]/", "loopback address 127.0.0.1 embedded in an IPv4-compatible"},
    {"http://[::a00:1]/", "private address 10.0.0.1 embedded in an IPv4-compatible"},
    {"http://[64:ff9b::127.0.0.1]/", "loopback address 127.0.0.1 embedded in a NAT64 address"},
    {"http://[64:ff9b::c0a8:101]/", "private address 192.168.1.1 embedded in a NAT64 address"},
    {"http://[2002:7f00:1::1]/", "loopback address 127.0.0.1 embedded in a 6to4 address"},
    {"http://[2002:c0a8:101::]/", "private address 192.168.1.1 embedded in a 6to4 address"},
    {"http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/", "private address 10.0.0.1 embedded in a Teredo address"},
    {"http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "loopback address 127.0.0.1 embedded in a Teredo"},
    {"http://[2001:0:a00:1::f7f7:f7f7]/", "private address 10.0.0.1 embedded in a Teredo address's server"},
    {"http://[fe80::1]/", "link-local address"},
    {"http://[febf::1]/", "link-local address"},
    {"http://[fec0::1]/", "site-local address"},
    {"http://[fc00::1]/", "private address (unique local"},
    {"http://[fd12:3456::1]/", "private address (unique local"},
    {"http://[ff02::1]/", "multicast address"},
    {"http://[2001:db8::1]/", "documentation address"},
    {"http://[3fff::1]/", "documentation address"},
    {"http://[2001:10::1]/", "reserved address (IETF protocol assignments)"},
    {"http://[100::1]/", "reserved address (outside global unicast"},
    {"http://[64:ff9b:1::1]/", "reserved address (outside global unicast"},
    // Names, schemes, forms
    {"http://localhost/", "local host names"},
    {"http://LOCALHOST./", "local host names"},
    {"http://a.b.localhost/", "local host names"},
    {"http://printer.local/", "local host names"},
    {"ftp://example.com/a.png", "protocol 'ftp' is not allowed"},
    {"file:///etc/passwd", "protocol 'file' is not allowed"},
    {"gopher://example.com/", "protocol 'gopher' is not allowed"},
    {"http://user:secret@example.com/", "credentials"},
    {"http://example.com@127.0.0.1/", "credentials"},
    {"http:///a.png", "no host"},
    {"http://[v7.abc]/", "not supported"},
    {"http://exa%00mple.com/", "characters DNS names cannot have"},
    {"http://ex%C3%A4mple.com/", "punycode"},
    {"http://example.com:0/", "port is not valid"},
    {"not a url", "not a valid absolute URL"},
};

TEST(ImageAddressPolicy, RefusesEveryHostileUrlWithItsReason) {
  UrlPolicy policy;
  for (const auto& h : kHostile) {
    auto t = parse_target(h.url, policy);
    ASSERT_FALSE(t.ok()) << h.url << " was allowed";
    EXPECT_NE(t.error().message.find(h.reason), std::string::npos)
        << h.url << ": '" << t.error().message << "' lacks '" << h.reason << "'";
    EXPECT_EQ(t.error().code, kRefusedCode) << h.url;
  }
}

TEST(ImageAddressPolicy, AllowsPublicHostsAndAddressesIncludingPublicEmbeddedOnes) {
  UrlPolicy policy;
  for (const char* url :
       {"https://example.com/a.png", "http://8.8.8.8/", "http://134744072/", "http://[2606:4700:4700::1111]/",
        "http://[::ffff:8.8.8.8]/", "http://[64:ff9b::808:808]/", "http://[2002:808:808::1]/",
        "http://[2001:0:4136:e378:8000:63bf:f7f7:f7f7]/", "http://images.example.com./x", "http://a_b.example/"}) {
    auto t = parse_target(url, policy);
    EXPECT_TRUE(t.ok()) << url << ": " << (t.ok() ? "" : t.error().message);
  }
}

TEST(ImageAddressPolicy, OddIpv4FormsMeanWhatBrowsersReadThemAs) {
  const std::pair<const char*, const char*> cases[] = {
      {"2130706433", "127.0.0.1"},    {"0x7f.1", "127.0.0.1"},
      {"0177.0.0.1", "127.0.0.1"},    {"127.1", "127.0.0.1"},
      {"192.168.257", "192.168.1.1"}, {"0xC0.0xA8.0x01.0x01", "192.168.1.1"},
      {"1.2.3.4.", "1.2.3.4"},        {"0x", "0.0.0.0"},
      {"0.0x.0.00", "0.0.0.0"},       {"4294967295", "255.255.255.255"},
  };
  for (const auto& [host, dotted] : cases) {
    asio::ip::address_v4 a;
    ASSERT_EQ(parse_numeric_ipv4(host, a), NumericHost::kAddress) << host;
    EXPECT_EQ(a.to_string(), dotted) << host;
  }
  asio::ip::address_v4 a;
  EXPECT_EQ(parse_numeric_ipv4("example.com", a), NumericHost::kName);
  EXPECT_EQ(parse_numeric_ipv4("1.2.example", a), NumericHost::kName);
  EXPECT_EQ(parse_numeric_ipv4("0x1g", a), NumericHost::kName);
  EXPECT_EQ(parse_numeric_ipv4("1.2.3.4.5", a), NumericHost::kInvalid);
  EXPECT_EQ(parse_numeric_ipv4("1.2.3.256", a), NumericHost::kInvalid);
  EXPECT_EQ(parse_numeric_ipv4("09", a), NumericHost::kInvalid);
}

TEST(ImageAddressPolicy, AllowPrivateOpensPrivateRangesButNeverUnspecifiedMulticastOrBroadcast) {
  UrlPolicy policy;
  policy.allow_private = true;
  for (const char* url : {"http://127.0.0.1/", "http://10.0.0.1/", "http://[::1]/", "http://[fd00::1]/",
                          "http://[::ffff:127.0.0.1]/", "http://localhost/", "http://169.254.169.254/"})
    EXPECT_TRUE(parse_target(url, policy).ok()) << url;
  for (const char* url : {"http://0.0.0.0/", "http://[::]/", "http://224.0.0.1/", "http://255.255.255.255/",
                          "http://[ff02::1]/", "http://[::ffff:224.0.0.1]/"})
    EXPECT_FALSE(parse_target(url, policy).ok()) << url;
}

TEST(ImageAddressPolicy, AllowedHostsMatchExactlyOrAsDotSuffix) {
  UrlPolicy policy;
  policy.hosts = {"images.example.com", ".cdn.test"};
  for (const char* url : {"https://images.example.com/a.png", "https://IMAGES.example.com/a.png", "https://cdn.test/",
                          "https://a.b.cdn.test/x"})
    EXPECT_TRUE(parse_target(url, policy).ok()) << url;
  for (const char* url : {"https://example.com/", "https://x.images.example.com/", "https://evilcdn.test/",
                          "https://cdn.test.evil.com/"}) {
    auto t = parse_target(url, policy);
    ASSERT_FALSE(t.ok()) << url;
    EXPECT_NE(t.error().message.find("IMAGE_FETCH_ALLOWED_HOSTS"), std::string::npos);
  }
}

TEST(ImageAddressPolicy, AllowedHostsNeverOpenPrivateAddresses) {
  UrlPolicy policy;
  policy.hosts = {"127.0.0.1"};
  EXPECT_FALSE(parse_target("http://127.0.0.1/", policy).ok());
}

TEST(ImageAddressPolicy, ProtocolsAreLimitedToTheList) {
  UrlPolicy policy;
  policy.protocols = {"https"};
  EXPECT_TRUE(parse_target("https://example.com/", policy).ok());
  auto t = parse_target("HTTP://example.com/", policy);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("protocol 'http' is not allowed"), std::string::npos);
}

TEST(ImageAddressPolicy, TargetKeepsPathAndQueryAndDropsTheFragment) {
  auto t = parse_target("https://Example.COM:8443/a/b.png?x=1&y=%20#frag", UrlPolicy{});
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->tls);
  EXPECT_EQ(t->host, "example.com");
  EXPECT_EQ(t->port, 8443);
  EXPECT_EQ(t->path, "/a/b.png?x=1&y=%20");
  EXPECT_EQ(t->host_header, "example.com:8443");
  EXPECT_FALSE(t->literal);
  auto v6 = parse_target("http://[2606:4700::1111]/", UrlPolicy{});
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host_header, "[2606:4700::1111]");
  EXPECT_EQ(v6->path, "/");
  auto odd = parse_target("http://134744072:81", UrlPolicy{});
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->host, "8.8.8.8");
  EXPECT_EQ(odd->host_header, "8.8.8.8:81");
}

TEST(ImageAddressPolicy, DisplayHostNeverShowsPathOrQuery) {
  EXPECT_EQ(display_host("https://img.example/a.png?token=SECRET"), "img.example");
  EXPECT_EQ(display_host("http://[::1]:8080/x"), "[::1]");
  EXPECT_EQ(display_host("nonsense"), "(unparsable URL)");
}

// ---------------------------------------------------------------------------------------------
// Magic bytes

const std::string kPng = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89"s;
const std::string kHtml = "<!DOCTYPE html><html><body>not an image</body></html>";

TEST(ImageSniff, KnowsImagesByTheirMagicBytes) {
  const std::pair<std::string, const char*> cases[] = {
      {kPng, "image/png"},
      {"\xff\xd8\xff\xe0\0\x10JFIF\0\x01"s, "image/jpeg"},
      {"GIF89a\x01\0\x01\0\0\0"s, "image/gif"},
      {"GIF87a\x01\0\x01\0\0\0"s, "image/gif"},
      {"RIFF\x24\0\0\0WEBPVP8 "s, "image/webp"},
      {"BM\x3a\0\0\0\0\0\0\0\x36\0"s, "image/bmp"},
      {"\0\0\x01\0\x01\0\x10\x10\0\0\x01\0"s, "image/x-icon"},
      {"\0\0\0\x1c"
       "ftypavif\0\0\0\0"s,
       "image/avif"},
      {"\0\0\0\x18"
       "ftypheic\0\0\0\0"s,
       "image/heic"},
      {"\0\0\0\x18"
       "ftypmif1\0\0\0\0"s,
       "image/heif"},
  };
  for (const auto& [bytes, mime] : cases) {
    auto got = sniff_image(bytes);
    ASSERT_TRUE(got) << mime;
    EXPECT_EQ(*got, mime);
  }
  for (const std::string& not_image : {kHtml, "<svg xmlns='http://www.w3.org/2000/svg'/>"s, "BMW is a car maker"s,
                                       "RIFF\x24\0\0\0WAVEfmt "s, "\x89PNG"s, ""s, "{\"json\":true}"s})
    EXPECT_FALSE(sniff_image(not_image)) << not_image;
}

TEST(ImageSniff, ContentTypeMustAnnounceAnImageOrNothing) {
  for (const char* ok : {"image/png", "IMAGE/JPEG; charset=binary", " image/webp ", "", "application/octet-stream",
                         "image/jpg", "image/x-icon"})
    EXPECT_FALSE(content_type_refusal(ok)) << ok;
  auto html = content_type_refusal("text/html; charset=utf-8");
  ASSERT_TRUE(html);
  EXPECT_EQ(*html, "content type 'text/html' is not an image type");
  auto svg = content_type_refusal("image/svg+xml");
  ASSERT_TRUE(svg);
  EXPECT_NE(svg->find("not an image type anygpt inlines"), std::string::npos);
  EXPECT_TRUE(content_type_refusal("application/json"));
}

TEST(ImageSniff, TheMagicBytesWinOverADeclaredImageTypeAndHtmlIsRefused) {
  auto jpeg_as_png = image_mime("image/png", "\xff\xd8\xff\xe0\0\x10JFIF\0\x01"s);
  ASSERT_TRUE(jpeg_as_png.ok());
  EXPECT_EQ(*jpeg_as_png, "image/jpeg");
  auto html_as_png = image_mime("image/png", kHtml);
  ASSERT_FALSE(html_as_png.ok());
  EXPECT_NE(html_as_png.error().message.find("the body is not an image"), std::string::npos);
  EXPECT_FALSE(image_mime("text/html", kPng).ok());
}

// ---------------------------------------------------------------------------------------------
// The request walk

json::object chat_with(json::array content) {
  json::object message{{"role", "user"}, {"content", std::move(content)}};
  return json::object{{"model", "m"}, {"messages", json::array{std::move(message)}}};
}

TEST(ImageInline, FindsRemoteImageUrlsInBothFormsAndNothingElse) {
  auto req = chat_with(json::array{
      json::object{{"type", "text"}, {"text", "look at http://example.com/x.png"}},
      json::object{{"type", "image_url"}, {"image_url", json::object{{"url", "https://a.example/1.png"}}}},
      json::object{{"type", "image_url"}, {"image_url", json::object{{"url", "data:image/png;base64,AAAA"}}}},
      json::object{{"type", "image_url"}, {"image_url", "HTTP://b.example/2.png"}},
      json::object{{"type", "image_url"}, {"image_url", json::object{{"url", "ftp://c.example/3.png"}}}},
      json::object{{"type", "input_audio"}, {"input_audio", json::object{{"data", "x"}, {"format", "wav"}}}},
  });
  req["messages"].as_array().push_back(json::object{{"role", "assistant"}, {"content", "https://d.example/4.png"}});
  auto found = remote_images(req);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].param, "messages[0].content[1].image_url.url");
  EXPECT_EQ(found[0].url->as_string(), "https://a.example/1.png");
  EXPECT_EQ(found[1].param, "messages[0].content[3].image_url");
  EXPECT_EQ(found[1].url->as_string(), "HTTP://b.example/2.png");
}

TEST(ImageInline, RawPrecheckSkipsBodiesWithoutImageUrls) {
  EXPECT_FALSE(may_hold_remote_images(R"({"messages":[{"role":"user","content":"see http://x"}]})"));
  EXPECT_FALSE(may_hold_remote_images(R"({"content":[{"type":"image_url","image_url":{"url":"data:..."}}]})"));
  EXPECT_TRUE(may_hold_remote_images(R"({"content":[{"type":"image_url","image_url":{"url":"https://x"}}]})"));
  EXPECT_TRUE(
      may_hold_remote_images(R"({"content":[{"type":"image\u005furl","image_url":{"url":"\u0068ttps://x"}}]})"));
}

TEST(ImageInline, DataUrlIsStandardBase64OfTheBytes) {
  json::value v = "https://x";
  set_data_url(v, Image("image/png", "\x89PNG\r\n\x1a\n"));
  EXPECT_EQ(v.as_string(), "data:image/png;base64,iVBORw0KGgo=");
  set_data_url(v, Image("image/gif", "ab"));
  EXPECT_EQ(v.as_string(), "data:image/gif;base64,YWI=");
  set_data_url(v, Image("image/gif", ""));
  EXPECT_EQ(v.as_string(), "data:image/gif;base64,");
}

// ---------------------------------------------------------------------------------------------
// The fetcher against a real loopback server

// A loopback HTTP/1.1 server (127.0.0.1, port 0) answering by path, one coroutine per connection
// on the test's io_context. Records every request's headers.
class ImageServer {
 public:
  explicit ImageServer(asio::io_context& ioc) : ioc_(ioc), acceptor_(ioc, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(ioc, accept_loop(), asio::detached);
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port()); }

  struct Seen {
    std::string path;
    std::map<std::string, std::string> headers;  // names in lower case
  };
  std::vector<Seen> seen;

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      asio::co_spawn(ioc_, serve(std::move(socket)), asio::detached);
    }
  }

  static std::string response(const std::string& status, const std::string& type, const std::string& body,
                              const std::string& extra = {}) {
    std::string r = "HTTP/1.1 " + status + "\r\n";
    if (!type.empty()) r.append("Content-Type: ").append(type).append("\r\n");
    r.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n").append(extra);
    r.append("Connection: close\r\n\r\n").append(body);
    return r;
  }

  asio::awaitable<void> pause(std::chrono::milliseconds d) {
    asio::steady_timer t(ioc_, d);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  asio::awaitable<bool> send(tcp::socket& s, const std::string& bytes) {
    auto [ec, n] = co_await asio::async_write(s, asio::buffer(bytes), asio::as_tuple(asio::use_awaitable));
    co_return !ec;
  }

  asio::awaitable<void> serve(tcp::socket s) {
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    auto [ec, n] = co_await http::async_read(s, buffer, req, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    Seen rec;
    rec.path = std::string(req.target());
    for (const auto& f : req) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      rec.headers[name] = std::string(f.value());
    }
    seen.push_back(rec);
    const std::string path = rec.path.substr(0, rec.path.find('?'));
    const std::string port_s = std::to_string(port());
    if (path == "/img.png") {
      co_await send(s, response("200 OK", "image/png", kPng));
    } else if (path == "/slow.png") {
      co_await pause(300ms);
      co_await send(s, response("200 OK", "image/png", kPng));
    } else if (path == "/html-as-png") {
      co_await send(s, response("200 OK", "image/png", kHtml));
    } else if (path == "/page") {
      co_await send(s, response("200 OK", "text/html; charset=utf-8", kHtml));
    } else if (path == "/missing") {
      co_await send(s, response("404 Not Found", "text/plain", "no"));
    } else if (path == "/to-loopback") {
      co_await send(s, response("302 Found", "", "", "Location: http://127.0.0.1:" + port_s + "/img.png\r\n"));
    } else if (path == "/to-other") {
      co_await send(s, response("302 Found", "", "", "Location: http://other.test:" + port_s + "/img.png\r\n"));
    } else if (path == "/to-self") {
      co_await send(s, response("301 Moved", "", "", "Location: /img.png\r\n"));
    } else if (path == "/loop") {
      co_await send(s, response("302 Found", "", "", "Location: /loop\r\n"));
    } else if (path.starts_with("/chain/")) {
      auto next = std::stoi(path.substr(7)) + 1;
      co_await send(s, response("307 Temporary", "", "", "Location: /chain/" + std::to_string(next) + "\r\n"));
    } else if (path.starts_with("/slowchain/")) {  // each hop well within the deadline, not all of them
      co_await pause(80ms);
      auto next = std::stoi(path.substr(11)) + 1;
      co_await send(s, response("307 Temporary", "", "", "Location: /slowchain/" + std::to_string(next) + "\r\n"));
    } else if (path == "/dir/relative") {
      co_await send(s, response("302 Found", "", "", "Location: ../img.png?v=2\r\n"));
    } else if (path == "/no-location") {
      co_await send(s, response("302 Found", "", ""));
    } else if (path == "/drip") {  // a slow drip: a byte every 50 ms of a declared 1000
      bool ok = co_await send(s, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n" + kPng);
      while (ok) {
        co_await pause(50ms);
        ok = co_await send(s, "x");
      }
    } else if (path == "/endless") {  // a chunked body that never ends
      bool ok = co_await send(s, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n");
      const std::string chunk = "4000\r\n" + kPng + std::string(0x4000 - kPng.size(), 'x') + "\r\n";
      while (ok) ok = co_await send(s, chunk);
    } else if (path == "/huge") {
      co_await send(s, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100000000\r\n\r\n" + kPng);
      co_await pause(2s);
    } else {
      co_await send(s, response("404 Not Found", "text/plain", "unknown"));
    }
  }

  asio::io_context& ioc_;
  tcp::acceptor acceptor_;
};

// Names for the tests: "public.test" and "other.test" resolve to public addresses that are dialled
// at the loopback server; "loopback.test" resolves to 127.0.0.1; "mixed.test" to a public and a
// private address; "rebind.test" first to a public address, then to 127.0.0.1.
class FakeNetwork : public Network {
 public:
  std::map<std::string, int> lookups;

  asio::awaitable<anygpt::core::Result<std::vector<asio::ip::address>>> resolve(const std::string& host,
                                                                                Clock::time_point) override {
    int n = ++lookups[host];
    std::vector<asio::ip::address> out;
    if (host == "public.test" || (host == "rebind.test" && n == 1))
      out.push_back(asio::ip::make_address("93.184.216.34"));
    if (host == "other.test") out.push_back(asio::ip::make_address("93.184.216.35"));
    if (host == "loopback.test" || (host == "rebind.test" && n > 1)) out.push_back(asio::ip::make_address("127.0.0.1"));
    if (host == "mixed.test") {
      out.push_back(asio::ip::make_address("93.184.216.34"));
      out.push_back(asio::ip::make_address("10.0.0.7"));
    }
    if (out.empty())
      co_return anygpt::core::make_error(anygpt::core::ErrorKind::kInvalidRequest, "the host name does not resolve", {},
                                         std::string(kFailedCode));
    co_return out;
  }
  tcp::endpoint dial_endpoint(const tcp::endpoint& checked) const override {
    return {asio::ip::make_address("127.0.0.1"), checked.port()};
  }
};

struct Env {
  Env(asio::io_context& c, ImageServer& s, FakeNetwork& n, FetchSlots& sl, asio::ssl::context& t)
      : ioc(c), server(s), net(n), slots(sl), tls(t) {}
  asio::io_context& ioc;
  ImageServer& server;
  FakeNetwork& net;
  FetchSlots& slots;
  asio::ssl::context& tls;
  FetchEnv fetch_env() { return FetchEnv(net, tls, slots); }
  std::string url(const std::string& host, const std::string& path) const {
    return "http://" + host + ":" + std::to_string(server.port()) + path;
  }
};

// Ticks the thread's watchdog, as a server's event loop does, until the context stops.
asio::awaitable<void> tick_watchdog(asio::io_context& ioc) {
  asio::steady_timer timer(ioc);
  for (;;) {
    timer.expires_after(anygpt::core::kWatchdogTick);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    anygpt::core::Watchdog::for_this_thread().tick(anygpt::core::SteadyClock::now());
  }
}

// Runs `body` on a fresh io_context with a loopback image server; fails after 20 s.
void run(asio::awaitable<void> (*body)(Env&), std::size_t slots = 16) {
  asio::io_context ioc;
  ImageServer server(ioc);
  FakeNetwork net;
  FetchSlots fetch_slots(slots);
  auto tls = anygpt::upstream::make_tls_context();
  Env env(ioc, server, net, fetch_slots, *tls);
  asio::co_spawn(ioc, tick_watchdog(ioc), asio::detached);
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(ioc, body(env), [&](std::exception_ptr e) {
    error = e;
    done = true;
    ioc.stop();
  });
  ioc.run_for(20s);
  ASSERT_TRUE(done) << "the test body did not finish";
  if (error) std::rethrow_exception(error);
}

FetchOptions options(bool allow_private = false) {
  FetchOptions o;
  o.policy.allow_private = allow_private;
  o.timeout = 2000ms;
  return o;
}

// The fetch's refusal or failure must contain `reason`.
void expect_refused(const anygpt::core::Result<Image>& r, const std::string& reason, std::string_view code) {
  ASSERT_FALSE(r.ok()) << "fetched: " << r->mime;
  EXPECT_NE(r.error().message.find(reason), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().code, code) << r.error().message;
  EXPECT_EQ(r.error().kind, anygpt::core::ErrorKind::kInvalidRequest);
}

TEST(ImageFetcher, FetchesAnImageWithAllowPrivate) {
  run([](Env& e) -> asio::awaitable<void> {
    auto r = co_await fetch_image(e.server.base() + "/img.png", options(true), e.fetch_env());
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (!r.ok()) co_return;
    EXPECT_EQ(r->mime, "image/png");
    EXPECT_EQ(r->bytes, kPng);
    auto named = co_await fetch_image(e.url("loopback.test", "/img.png"), options(true), e.fetch_env());
    EXPECT_TRUE(named.ok());
  });
}

// What a hostile (or broken) name or image host does, and the reason its fetch gives.
struct HostileAnswer {
  const char* host;
  const char* path;
  const char* reason;
  std::string_view code;
};

const HostileAnswer kHostileAnswers[] = {
    {"loopback.test", "/img.png", "the host resolves to a loopback address", kRefusedCode},
    {"mixed.test", "/img.png", "the host resolves to a private address", kRefusedCode},
    {"public.test", "/to-loopback", "a redirect to host '127.0.0.1': the host is a loopback address", kRefusedCode},
    {"public.test", "/loop", "a redirect loop", kRefusedCode},
    {"public.test", "/chain/0", "more than 3 redirects", kRefusedCode},
    {"public.test", "/no-location", "a redirect without a Location header", kFailedCode},
    {"public.test", "/drip", "no complete answer within 400 ms", kFailedCode},
    {"public.test", "/endless", "the image is larger than 65536 bytes", kRefusedCode},
    {"public.test", "/huge", "the image is larger than 65536 bytes", kRefusedCode},
    {"public.test", "/html-as-png", "the body is not an image", kRefusedCode},
    {"public.test", "/page", "content type 'text/html' is not an image type", kRefusedCode},
    {"public.test", "/missing", "the image host answered HTTP 404", kFailedCode},
    {"nowhere.test", "/img.png", "the host name does not resolve", kFailedCode},
};

TEST(ImageFetcher, EveryHostileAnswerIsRefusedWithItsReason) {
  run([](Env& e) -> asio::awaitable<void> {
    auto o = options();
    o.timeout = 400ms;
    o.max_bytes = 65536;
    for (const auto& h : kHostileAnswers) {
      SCOPED_TRACE(std::string(h.host) + h.path);
      auto r = co_await fetch_image(e.url(h.host, h.path), o, e.fetch_env());
      expect_refused(r, h.reason, h.code);
    }
  });
}

TEST(ImageFetcher, ANameThatResolvesToLoopbackIsRefusedBeforeAnyConnection) {
  run([](Env& e) -> asio::awaitable<void> {
    auto r = co_await fetch_image(e.url("loopback.test", "/img.png"), options(), e.fetch_env());
    expect_refused(r, "the host resolves to a loopback address", kRefusedCode);
    auto mixed = co_await fetch_image(e.url("mixed.test", "/img.png"), options(), e.fetch_env());
    expect_refused(mixed, "the host resolves to a private address", kRefusedCode);
    EXPECT_TRUE(e.server.seen.empty());
  });
}

TEST(ImageFetcher, ResolvesOnceAndConnectsToTheCheckedAddress) {
  run([](Env& e) -> asio::awaitable<void> {
    // rebind.test answers a public address first and 127.0.0.1 afterwards: one lookup, the
    // checked answer dialled, no second lookup to rebind.
    auto r = co_await fetch_image(e.url("rebind.test", "/img.png"), options(), e.fetch_env());
    EXPECT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(e.net.lookups["rebind.test"], 1);
  });
}

TEST(ImageFetcher, APublicHostThatRedirectsToLoopbackIsRefused) {
  run([](Env& e) -> asio::awaitable<void> {
    auto r = co_await fetch_image(e.url("public.test", "/to-loopback"), options(), e.fetch_env());
    expect_refused(r, "a redirect to host '127.0.0.1': the host is a loopback address", kRefusedCode);
    EXPECT_EQ(e.server.seen.size(), 1u);
  });
}

TEST(ImageFetcher, RedirectsAreFollowedRelativeOnesIncludedAndEachHopRechecked) {
  run([](Env& e) -> asio::awaitable<void> {
    auto r = co_await fetch_image(e.url("public.test", "/dir/relative"), options(), e.fetch_env());
    EXPECT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(e.server.seen.back().path, "/img.png?v=2");
    auto self = co_await fetch_image(e.url("public.test", "/to-self"), options(), e.fetch_env());
    EXPECT_TRUE(self.ok());
  });
}

TEST(ImageFetcher, MoreRedirectsThanAllowedAreRefused) {
  run([](Env& e) -> asio::awaitable<void> {
    auto r = co_await fetch_image(e.url("public.test", "/chain/0"), options(), e.fetch_env());
    expect_refused(r, "more than 3 redirects", kRefusedCode);
    EXPECT_EQ(e.server.seen.size(), 4u);  // the first request and 3 redirects
    auto none = options();
    none.max_redirects = 0;
    auto r0 = co_await fetch_image(e.url("public.test", "/to-self"), none, e.fetch_env());
    expect_refused(r0, "more than 0 redirects", kRefusedCode);
    auto bare = co_await fetch_image(e.url("public.test", "/no-location"), options(), e.fetch_env());
    expect_refused(bare, "a redirect without a Location header", kFailedCode);
  });
}

TEST(ImageFetcher, ASlowDripEndsAtTheDeadline) {
  run([](Env& e) -> asio::awaitable<void> {
    auto o = options();
    o.timeout = 300ms;
    auto t0 = Clock::now();
    auto r = co_await fetch_image(e.url("public.test", "/drip"), o, e.fetch_env());
    expect_refused(r, "no complete answer within 300 ms", kFailedCode);
    EXPECT_LT(Clock::now() - t0, 1000ms);
  });
}

TEST(ImageFetcher, OneDeadlineCoversEveryHop) {
  run([](Env& e) -> asio::awaitable<void> {
    auto o = options();
    o.timeout = 200ms;
    o.max_redirects = 10;
    auto t0 = Clock::now();
    auto r = co_await fetch_image(e.url("public.test", "/slowchain/0"), o, e.fetch_env());
    expect_refused(r, "no complete answer within 200 ms", kFailedCode);
    EXPECT_GE(Clock::now() - t0, 190ms);
    EXPECT_LT(Clock::now() - t0, 1000ms);
  });
}

TEST(ImageFetcher, SendsItsOwnHeadersAndTheCredentialOnlyToTheFirstHost) {
  run([](Env& e) -> asio::awaitable<void> {
    auto o = options();
    o.user_agent = "test-agent/1";
    o.referer = "https://app.example/page";
    o.authorization = "Bearer image-host-token";
    auto r = co_await fetch_image(e.url("public.test", "/to-other"), o, e.fetch_env());
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (e.server.seen.size() != 2) co_return;
    const auto& first = e.server.seen[0].headers;
    const auto& second = e.server.seen[1].headers;
    EXPECT_EQ(first.at("user-agent"), "test-agent/1");
    EXPECT_EQ(first.at("referer"), "https://app.example/page");
    EXPECT_EQ(first.at("authorization"), "Bearer image-host-token");
    EXPECT_EQ(first.at("host"), "public.test:" + std::to_string(e.server.port()));
    EXPECT_EQ(second.at("host"), "other.test:" + std::to_string(e.server.port()));
    EXPECT_EQ(second.count("authorization"), 0u);  // another host: never the credential
    EXPECT_EQ(second.at("referer"), "https://app.example/page");
  });
}

TEST(ImageFetcher, TheConcurrencyCapQueuesFetchesUntilASlotFrees) {
  run(
      [](Env& e) -> asio::awaitable<void> {
        json::object req = chat_with(json::array{
            json::object{{"type", "image_url"},
                         {"image_url", json::object{{"url", e.url("public.test", "/slow.png")}}}},
            json::object{{"type", "image_url"}, {"image_url", json::object{{"url", e.url("other.test", "/slow.png")}}}},
        });
        InlineOptions io;
        io.fetch = options();
        auto t0 = Clock::now();
        auto r = co_await inline_images(req, io, e.fetch_env());
        EXPECT_TRUE(r.ok()) << r.error().message;
        EXPECT_GE(Clock::now() - t0, 600ms);  // one slot: the second waited for the first
        EXPECT_EQ(e.server.seen.size(), 2u);
      },
      1);
}

TEST(ImageFetcher, SlotsPassToWaitersInOrderAndTimeOut) {
  run(
      [](Env& e) -> asio::awaitable<void> {
        // (co_await as a whole statement: GCC 12 miscompiles it inside a condition or a macro's)
        const bool first = co_await e.slots.acquire(Clock::now() + 1s);
        EXPECT_TRUE(first);
        auto t0 = Clock::now();
        const bool second = co_await e.slots.acquire(Clock::now() + 100ms);
        EXPECT_FALSE(second);
        EXPECT_GE(Clock::now() - t0, 90ms);
        e.slots.release();
        const bool third = co_await e.slots.acquire(Clock::now() + 100ms);
        EXPECT_TRUE(third);
        e.slots.release();
      },
      1);
}

// ---------------------------------------------------------------------------------------------
// Inlining a request

TEST(ImageInline, FetchesEveryDistinctUrlInParallelAndReplacesEachPart) {
  run([](Env& e) -> asio::awaitable<void> {
    auto slow = e.url("public.test", "/slow.png");
    auto img = e.url("other.test", "/slow.png");
    json::object req = chat_with(json::array{
        json::object{{"type", "text"}, {"text", "what is this?"}},
        json::object{{"type", "image_url"}, {"image_url", json::object{{"url", slow}, {"detail", "low"}}}},
        json::object{{"type", "image_url"}, {"image_url", img}},
        json::object{{"type", "image_url"}, {"image_url", json::object{{"url", slow}}}},
        json::object{{"type", "image_url"}, {"image_url", json::object{{"url", "data:image/gif;base64,R0lG"}}}},
    });
    InlineOptions io;
    io.fetch = options();
    auto t0 = Clock::now();
    auto r = co_await inline_images(req, io, e.fetch_env());
    auto took = Clock::now() - t0;
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (!r.ok()) co_return;
    EXPECT_EQ(*r, 3u);
    EXPECT_EQ(e.server.seen.size(), 2u);  // the repeated URL once
    EXPECT_LT(took, 550ms);               // two 300 ms images at the same time, not one after the other
    const auto& parts = req["messages"].as_array()[0].as_object()["content"].as_array();
    std::string want = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ";
    EXPECT_EQ(parts[1].as_object().at("image_url").as_object().at("url").as_string(), want);
    EXPECT_EQ(parts[1].as_object().at("image_url").as_object().at("detail").as_string(), "low");
    EXPECT_EQ(parts[2].as_object().at("image_url").as_string(), want);
    EXPECT_EQ(parts[3].as_object().at("image_url").as_object().at("url").as_string(), want);
    EXPECT_EQ(parts[4].as_object().at("image_url").as_object().at("url").as_string(), "data:image/gif;base64,R0lG");
  });
}

TEST(ImageInline, AFailureNamesThePartTheHostAndTheReasonButNotTheQuery) {
  run([](Env& e) -> asio::awaitable<void> {
    json::object req = chat_with(json::array{
        json::object{{"type", "image_url"}, {"image_url", json::object{{"url", e.url("public.test", "/img.png")}}}},
        json::object{{"type", "image_url"},
                     {"image_url", json::object{{"url", "http://127.0.0.1:9/x.png?token=SECRET"}}}},
    });
    InlineOptions io;
    io.fetch = options();
    auto r = co_await inline_images(req, io, e.fetch_env());
    EXPECT_FALSE(r.ok());
    if (r.ok()) co_return;
    EXPECT_EQ(r.error().message,
              "Cannot inline the image_url at messages[0].content[1].image_url.url (host '127.0.0.1'): the host is "
              "a loopback address");
    EXPECT_EQ(r.error().param, "messages[0].content[1].image_url.url");
    EXPECT_EQ(r.error().code, kRefusedCode);
    EXPECT_EQ(r.error().message.find("SECRET"), std::string::npos);
  });
}

TEST(ImageInline, KeepLeavesFailingUrlsForTheProviderAndInlinesTheRest) {
  run([](Env& e) -> asio::awaitable<void> {
    const std::string bad = e.url("public.test", "/page");
    json::object req = chat_with(json::array{
        json::object{{"type", "image_url"}, {"image_url", json::object{{"url", bad}}}},
        json::object{{"type", "image_url"}, {"image_url", json::object{{"url", e.url("public.test", "/img.png")}}}},
    });
    InlineOptions io;
    io.fetch = options();
    io.keep_failed = true;
    auto r = co_await inline_images(req, io, e.fetch_env());
    EXPECT_TRUE(r.ok());
    if (!r.ok()) co_return;
    EXPECT_EQ(*r, 1u);
    const auto& parts = req["messages"].as_array()[0].as_object()["content"].as_array();
    EXPECT_EQ(parts[0].as_object().at("image_url").as_object().at("url").as_string(), bad);
    EXPECT_TRUE(parts[1].as_object().at("image_url").as_object().at("url").as_string().starts_with("data:image/png"));
  });
}

TEST(ImageInline, MoreDistinctUrlsThanTheCapAreRefused) {
  run([](Env& e) -> asio::awaitable<void> {
    json::array content;
    for (int i = 0; i < 3; ++i)
      content.push_back(
          json::object{{"type", "image_url"},
                       {"image_url", json::object{{"url", e.url("public.test", "/img.png?n=" + std::to_string(i))}}}});
    json::object req = chat_with(std::move(content));
    InlineOptions io;
    io.fetch = options();
    io.max_images = 2;
    auto r = co_await inline_images(req, io, e.fetch_env());
    EXPECT_FALSE(r.ok());
    if (r.ok()) co_return;
    EXPECT_NE(r.error().message.find("more than 2 distinct image URLs"), std::string::npos);
    EXPECT_TRUE(e.server.seen.empty());
  });
}

}  // namespace
