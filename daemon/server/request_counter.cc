#include "daemon/server/request_counter.h"

#include <algorithm>

namespace operator_auth {
namespace {

using grpc::experimental::InterceptionHookPoints;

class CountingInterceptor final : public grpc::experimental::Interceptor {
 public:
  CountingInterceptor(RequestCounter& counter, const char* method)
      : counter_(counter), method_(method) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      counter_.Record(method_, methods->GetSendStatus().ok());
    }
    methods->Proceed();
  }

 private:
  RequestCounter& counter_;
  const char* method_;
};

class CountingInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CountingInterceptorFactory(RequestCounter& counter) : counter_(counter) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CountingInterceptor(counter_, info->method());
  }

 private:
  RequestCounter& counter_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
RequestCounter::MakeInterceptorFactory() {
  return std::make_unique<CountingInterceptorFactory>(*this);
}

void RequestCounter::Record(const char* method, bool ok) {
  absl::MutexLock lock(&mu_);
  std::string name = method == nullptr ? "" : method;
  // Bounded, whatever method names clients make up.
  if (!counts_.contains(name) && counts_.size() >= kMaxMethods) name = "(other)";
  MethodCount& count = counts_[name];
  ++count.calls;
  if (!ok) ++count.errors;
}

std::vector<RequestCounter::MethodCount> RequestCounter::Counts() const {
  std::vector<MethodCount> out;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [method, count] : counts_) {
      out.push_back(count);
      out.back().method = method;
    }
  }
  std::sort(out.begin(), out.end(),
            [](const MethodCount& a, const MethodCount& b) { return a.method < b.method; });
  return out;
}

}  // namespace operator_auth
