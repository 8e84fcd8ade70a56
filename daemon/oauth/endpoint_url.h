// Which URLs the daemon sends credentials to: https:// anywhere, http:// only to a loopback host
// (127.0.0.0/8, [::1], localhost), where a test server or a local proxy of the user's own may
// listen. authd.json is checked with it at start and at SIGHUP, and CurlHttpClient checks every
// request again. Thread-safe (pure).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace operator_auth {

// The host of an http:// or https:// URL, lower-cased, brackets kept for IPv6 ("[::1]"); empty
// when the URL has no scheme or authority.
std::string UrlHost(absl::string_view url);

// True for "localhost", a dotted-quad address in 127.0.0.0/8 and "[::1]".
bool IsLoopbackHost(absl::string_view host);

// OK for https:// URLs and for http:// URLs whose host is a loopback one; INVALID_ARGUMENT saying
// which rule failed otherwise. The message names no part of the URL (the caller names the key).
absl::Status CheckEndpointUrl(absl::string_view url);

}  // namespace operator_auth
