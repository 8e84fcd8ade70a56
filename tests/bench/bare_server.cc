// authd_bare_server: the floor authd_bench holds operator-authd's idle memory against. A gRPC
// callback server with nothing but the default health service (and reflection, as the daemon
// has), serving the Unix socket it is given; linked against the same libraries as the daemon, so
// the dynamic loader maps the same shared objects and only what the daemon does at run time
// differs. Takes the daemon's command line (DaemonProcess starts it like the daemon) and ignores
// everything but --socket. Exits 0 on SIGTERM / SIGINT.
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

int main(int argc, char** argv) {
  std::string socket;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--socket") socket = argv[i + 1];
  }
  if (socket.empty()) {
    std::fprintf(stderr, "authd_bare_server: --socket PATH is required\n");
    return 2;
  }
  // The daemon creates its socket's directory; so does this floor.
  std::error_code ignored;
  std::filesystem::create_directories(std::filesystem::path(socket).parent_path(), ignored);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket, grpc::InsecureServerCredentials());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    std::fprintf(stderr, "authd_bare_server: cannot serve %s\n", socket.c_str());
    return 1;
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  int sig = 0;
  while (sigwait(&signals, &sig) != 0) {
  }
  server->Shutdown();
  server->Wait();
  return 0;
}
