// Default locations shared by the daemon, operatorctl and the client libraries, so that all of
// them find the same socket without configuration. Thread-safe (reads the environment only).
#pragma once

#include <string>

namespace operator_auth {

// $HOME, else the passwd entry's home directory, else "/".
std::string UserHomeDirectory();

// $OPERATOR_HOME, else $HOME/.operator, else the passwd entry's home + /.operator.
std::string DefaultOperatorHome();

// $OPERATOR_AUTHD_SOCKET, else $XDG_RUNTIME_DIR/operator/authd.sock, else
// <operator_home>/run/authd.sock.
std::string DefaultSocketPath(const std::string& operator_home);
std::string DefaultSocketPath();

}  // namespace operator_auth
