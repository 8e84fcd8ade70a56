// HTTPS requests to token, device-authorization and revocation endpoints, over libcurl: TLS 1.2
// or later with the peer's certificate and host name verified; plain http only to a loopback
// host (endpoint_url.h), any other http:// URL is INVALID_ARGUMENT before anything is sent.
// Errors never carry a request or response body (they hold secrets) nor a URL's query string.
// CurlHttpClient is thread-safe: every Send() uses its own easy handle.
#pragma once

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace operator_auth {

using HttpFields = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "POST";  // "GET" or "POST"
  std::string url;
  HttpFields headers;  // e.g. {"Content-Type", "application/json"}
  std::string body;
  absl::Duration timeout = absl::Seconds(15);         // whole request, connect included
  absl::Duration connect_timeout = absl::Seconds(5);  // at most `timeout`
};

struct HttpResponse {
  long status = 0;
  std::string content_type;  // without parameters, lower-case ("application/json")
  std::string body;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // A response of any HTTP status is OK here; only a failure to get one is an error:
  // DEADLINE_EXCEEDED on timeout, UNAVAILABLE for connection and TLS failures, and
  // RESOURCE_EXHAUSTED for a body over kMaxResponseBytes.
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;
};

inline constexpr size_t kMaxResponseBytes = 1024 * 1024;

class CurlHttpClient : public HttpClient {
 public:
  CurlHttpClient();  // curl_global_init runs once per process, at the first Send()
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;

  // Ends requests in flight within a fraction of a second, and every later one at once, with
  // CANCELLED: the daemon is stopping and need not wait for a hanging endpoint.
  void CancelAll() { cancelled_.store(true); }

 private:
  std::atomic<bool> cancelled_{false};
};

// application/x-www-form-urlencoded encoding of `fields`, in order.
std::string FormEncode(const HttpFields& fields);
// Parses a query string or form body ("a=1&b=x%20y"); '+' is a space. Malformed escapes are kept
// literally.
HttpFields FormDecode(absl::string_view text);
// Percent-encodes everything but unreserved characters (RFC 3986).
std::string UrlEncode(absl::string_view text);

}  // namespace operator_auth
