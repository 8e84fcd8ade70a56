// Counts the calls the daemon served, per method and how many ended in an error, for
// `operatorctl daemon status`. A gRPC server interceptor, so every service (ours, health,
// reflection) is counted the same way without code in each handler. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/support/server_interceptor.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace operator_auth {

class RequestCounter {
 public:
  struct MethodCount {
    std::string method;
    uint64_t calls = 0;
    uint64_t errors = 0;
  };

  // The factory to hand to ServerBuilder::experimental().SetInterceptorCreators. The counter must
  // outlive the server.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeInterceptorFactory();

  // Past this many distinct names, calls count under "(other)".
  static constexpr size_t kMaxMethods = 64;

  void Record(const char* method, bool ok);
  // Sorted by method name.
  std::vector<MethodCount> Counts() const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, MethodCount> counts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace operator_auth
