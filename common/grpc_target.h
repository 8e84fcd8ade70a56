// The gRPC target for a Unix socket path. gRPC parses "unix:" targets as URIs: it
// percent-decodes the path and cuts it at '?' or '#', so a path holding those must be escaped or
// the client silently dials another file. Pure function, thread-safe.
#pragma once

#include <string>

namespace operator_auth {

// "unix:" + `path`, with every byte other than [A-Za-z0-9/._~-] percent-encoded.
std::string UnixSocketTarget(const std::string& path);

}  // namespace operator_auth
