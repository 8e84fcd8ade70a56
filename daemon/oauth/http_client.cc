#include "daemon/oauth/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "daemon/oauth/endpoint_url.h"

namespace operator_auth {
namespace {

constexpr absl::Duration kMaxConnectTimeout = absl::Seconds(10);
constexpr char kUserAgent[] = "operator-authd/" AUTHD_VERSION;

CURLcode global_init_result = CURLE_FAILED_INIT;
std::once_flag global_init_once;

struct EasyHandleDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using EasyHandle = std::unique_ptr<CURL, EasyHandleDeleter>;
using HeaderList = std::unique_ptr<curl_slist, HeaderListDeleter>;

// The parts of a URL that are safe to put in an error: scheme, host[:port] and path. The query
// string and fragment (authorization codes, tokens) and any userinfo (passwords) are dropped.
struct UrlParts {
  std::string printable;
  std::string userinfo;
  std::string query;
};

UrlParts SplitUrl(absl::string_view url) {
  UrlParts parts;
  size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) {
    parts.printable = "<URL without a scheme>";
    return parts;
  }
  absl::string_view scheme = url.substr(0, scheme_end);
  absl::string_view rest = url.substr(scheme_end + 3);
  size_t authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  absl::string_view authority = rest.substr(0, authority_end);
  if (size_t at = authority.rfind('@'); at != absl::string_view::npos) {
    parts.userinfo = std::string(authority.substr(0, at));
    authority.remove_prefix(at + 1);
  }
  absl::string_view after_authority = rest.substr(authority_end);
  size_t path_end = std::min(after_authority.find_first_of("?#"), after_authority.size());
  absl::string_view path = after_authority.substr(0, path_end);
  parts.query = std::string(after_authority.substr(path_end));
  parts.printable = absl::StrCat(scheme, "://", authority, path);
  return parts;
}

// curl's own messages name hosts and ports, not URLs; this is a second line of defence in case a
// future version quotes more of the URL than that.
std::string ScrubbedCurlError(std::string text, const UrlParts& url) {
  for (const std::string* secret : {&url.query, &url.userinfo}) {
    if (!secret->empty()) absl::StrReplaceAll({{*secret, "<redacted>"}}, &text);
  }
  return text;
}

bool HasHeader(const HttpFields& headers, absl::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& field) { return absl::EqualsIgnoreCase(field.first, name); });
}

bool HasLineBreakOrNul(absl::string_view text) {
  return text.find_first_of(absl::string_view("\r\n\0", 3)) != absl::string_view::npos;
}

std::string MediaType(const char* content_type) {
  if (content_type == nullptr) return "";
  absl::string_view value(content_type);
  value = value.substr(0, std::min(value.find(';'), value.size()));
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(value));
}

struct ResponseSink {
  std::string body;
  bool too_large = false;
};

// libcurl calls this several times a second while a transfer runs; non-zero aborts it.
int AbortWhenCancelled(void* cancelled, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(cancelled)->load() ? 1 : 0;
}

size_t AppendToBody(char* data, size_t size, size_t count, void* user_data) {
  auto* sink = static_cast<ResponseSink*>(user_data);
  const size_t length = size * count;
  if (length > kMaxResponseBytes - sink->body.size()) {
    sink->too_large = true;
    return 0;  // anything but `length` makes curl abort with CURLE_WRITE_ERROR
  }
  sink->body.append(data, length);
  return length;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string FormUnescape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

long Milliseconds(absl::Duration duration) {
  // 0 would mean "no timeout" to curl.
  return static_cast<long>(std::max<int64_t>(1, absl::ToInt64Milliseconds(duration)));
}

}  // namespace

CurlHttpClient::CurlHttpClient() = default;

absl::StatusOr<HttpResponse> CurlHttpClient::Send(const HttpRequest& request) {
  const UrlParts url = SplitUrl(request.url);
  const std::string what = absl::StrCat(request.method, " ", url.printable);
  if (request.method != "GET" && request.method != "POST") {
    return absl::InvalidArgumentError(absl::StrCat(what, ": only GET and POST are supported"));
  }
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || HasLineBreakOrNul(name) || HasLineBreakOrNul(value) ||
        absl::StrContains(name, ':')) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": a request header has an invalid name or value"));
    }
  }
  if (absl::Status s = CheckEndpointUrl(request.url); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", s.message()));
  }
  const bool plain_http = !absl::StartsWithIgnoreCase(request.url, "https://");
  // On first use, not at start-up: libcurl's TLS back end (OpenSSL) initialises itself here,
  // about 2 MB of resident memory an idle daemon that never refreshes need not carry.
  // libcurl >= 7.84 makes curl_global_init thread-safe; the once-flag makes it run once.
  std::call_once(global_init_once,
                 [] { global_init_result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (global_init_result != CURLE_OK) {
    return absl::InternalError(absl::StrCat(
        what, ": libcurl initialisation failed: ", curl_easy_strerror(global_init_result)));
  }
  EasyHandle handle(curl_easy_init());
  if (handle == nullptr) {
    return absl::InternalError(absl::StrCat(what, ": cannot create a libcurl handle"));
  }
  CURL* curl = handle.get();

  HeaderList headers;
  auto add_header = [&headers](const std::string& line) {
    curl_slist* appended = curl_slist_append(headers.get(), line.c_str());
    if (appended == nullptr) return false;
    if (headers == nullptr) headers.reset(appended);  // later appends keep the same head
    return true;
  };
  bool headers_ok = true;
  for (const auto& [name, value] : request.headers) {
    // "Name:" would tell curl to drop the header; "Name;" sends it with an empty value.
    headers_ok = headers_ok && add_header(value.empty() ? absl::StrCat(name, ";")
                                                        : absl::StrCat(name, ": ", value));
  }
  // Without this, curl may wait for a "100 Continue" that some token endpoints never send.
  if (!HasHeader(request.headers, "Expect")) headers_ok = headers_ok && add_header("Expect:");
  if (!headers_ok) {
    return absl::ResourceExhaustedError(absl::StrCat(what, ": out of memory for headers"));
  }

  ResponseSink sink;
  char error_text[CURL_ERROR_SIZE] = {};
  CURLcode setup = CURLE_OK;
  auto set = [&setup](CURLcode result) {
    if (setup == CURLE_OK) setup = result;
  };
  set(curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text));
  set(curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L));
  set(curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str()));
  // TLS to everything but loopback, verified against the system's CAs whatever curl's build
  // defaults are; plain http only to a loopback host (endpoint_url.h), and no redirect may
  // leave https (none is followed anyway).
  set(curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, plain_http ? "http" : "https"));
  set(curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https"));
  set(curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L));
  set(curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L));
  set(curl_easy_setopt(curl, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2)));
  // Loopback is never proxied, whatever *_proxy says: the login callback and test servers live
  // there.
  set(curl_easy_setopt(curl, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1"));
  set(curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L));
  set(curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, Milliseconds(request.timeout)));
  set(curl_easy_setopt(
      curl, CURLOPT_CONNECTTIMEOUT_MS,
      Milliseconds(std::min({request.connect_timeout, request.timeout, kMaxConnectTimeout}))));
  set(curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                       static_cast<curl_off_t>(kMaxResponseBytes)));
  set(curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &AppendToBody));
  set(curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L));
  set(curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &AbortWhenCancelled));
  set(curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &cancelled_));
  set(curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink));
  set(curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get()));
  if (!HasHeader(request.headers, "User-Agent")) {
    set(curl_easy_setopt(curl, CURLOPT_USERAGENT, kUserAgent));
  }
  if (request.method == "POST") {
    set(curl_easy_setopt(curl, CURLOPT_POST, 1L));
    set(curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size())));
    set(curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data()));
  } else {
    set(curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L));
  }
  if (setup != CURLE_OK) {
    return absl::InternalError(
        absl::StrCat(what, ": cannot configure libcurl: ", curl_easy_strerror(setup)));
  }

  const CURLcode result = curl_easy_perform(curl);
  if (result != CURLE_OK) {
    if (sink.too_large || result == CURLE_FILESIZE_EXCEEDED) {
      return absl::ResourceExhaustedError(
          absl::StrCat(what, ": response body exceeds ", kMaxResponseBytes, " bytes"));
    }
    const std::string curl_text =
        ScrubbedCurlError(error_text[0] != '\0' ? error_text : curl_easy_strerror(result), url);
    const std::string message = absl::StrCat(what, ": ", curl_text);
    switch (result) {
      case CURLE_OPERATION_TIMEDOUT:
        return absl::DeadlineExceededError(message);
      case CURLE_ABORTED_BY_CALLBACK:
        return absl::CancelledError(absl::StrCat(what, ": cancelled, the daemon is stopping"));
      // Never retried without verification; a later retry may meet the right server.
      case CURLE_PEER_FAILED_VERIFICATION:
        return absl::UnavailableError(
            absl::StrCat(what, ": refused: the server's TLS certificate could not be verified (",
                         curl_text, ")"));
      // Retrying cannot fix these: the URL itself is unusable.
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return absl::InvalidArgumentError(message);
      default:
        return absl::UnavailableError(message);
    }
  }

  HttpResponse response;
  const char* content_type = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status) != CURLE_OK ||
      curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &content_type) != CURLE_OK) {
    return absl::InternalError(absl::StrCat(what, ": cannot read the response status"));
  }
  response.content_type = MediaType(content_type);
  response.body = std::move(sink.body);
  return response;
}

std::string UrlEncode(absl::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
    }
  }
  return out;
}

// Spaces become %20 rather than '+': every form decoder accepts both, and one escaping rule (the
// strictest, RFC 3986 unreserved) serves URLs and form bodies alike.
std::string FormEncode(const HttpFields& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    absl::StrAppend(&out, UrlEncode(name), "=", UrlEncode(value));
  }
  return out;
}

HttpFields FormDecode(absl::string_view text) {
  HttpFields fields;
  while (!text.empty()) {
    const size_t end = std::min(text.find('&'), text.size());
    absl::string_view pair = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    if (pair.empty()) continue;
    const size_t equals = std::min(pair.find('='), pair.size());
    absl::string_view name = pair.substr(0, equals);
    absl::string_view value = pair.substr(std::min(equals + 1, pair.size()));
    fields.emplace_back(FormUnescape(name), FormUnescape(value));
  }
  return fields;
}

}  // namespace operator_auth
