#!/usr/bin/env bash
# Installs every build and test dependency from Debian packages. Idempotent: a second run only
# confirms what is there. Runs as root (CI) or through sudo.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libssl-dev
  libcurl4-openssl-dev libcpp-httplib-dev libcli11-dev libsystemd-dev
  libgtest-dev libgmock-dev
  python3 python3-filelock python3-grpcio python3-protobuf python3-venv util-linux
  systemd  # systemd-analyze and systemd-socket-activate, for the unit tests
  zsh fish  # the install test loads operatorctl's zsh and fish completion
  openssl binutils  # a self-signed test server (openssl s_server), the hardening test (readelf)
  golang-etcd-server-dev  # etcd v3's .proto files, for the fleet backend's client stubs
  etcd-server etcd-client  # a real etcd cluster on 127.0.0.1 for the fleet tests
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
