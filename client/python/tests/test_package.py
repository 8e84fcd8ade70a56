"""`pip install ./client/python` works offline and gives an importable, working client.

In a temp venv over Debian's python3 (--system-site-packages, for python3-grpcio and
python3-protobuf), pip installs client/python with build isolation and --no-index: the in-tree
backend (build_backend/, `requires = []`) generates the stubs with protoc. The venv's python then
imports the package with no PYTHONPATH and reads a key that operatorctl set in a real daemon. An
sdist made by the backend must build a wheel on its own (it carries the proto).

ctest runs it as python_package_test with OPERATOR_AUTHD_BIN and OPERATORCTL_BIN. By hand:

    OPERATOR_AUTHD_BIN=build/daemon/operator-authd OPERATORCTL_BIN=build/cli/operatorctl \
      /usr/bin/python3 client/python/tests/test_package.py
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import zipfile

from daemon_support import loopback_only_config, socket_accepts

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT_DIR = os.path.dirname(HERE)  # client/python
REPO_DIR = os.path.dirname(os.path.dirname(PROJECT_DIR))
# Absolute: the commands run in a temp dir.
DAEMON_BIN = os.path.abspath(os.environ["OPERATOR_AUTHD_BIN"]) if os.environ.get(
    "OPERATOR_AUTHD_BIN") else ""
CTL_BIN = os.path.abspath(os.environ["OPERATORCTL_BIN"]) if os.environ.get(
    "OPERATORCTL_BIN") else ""

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
PIP_TIMEOUT_S = 60.0


def clean_env(extra=None):
    """This environment without PYTHON*/PIP_* settings, daemon path variables or {ID}_API_KEY;
    pip reads no config file (so nothing but this tree and the system packages can be used)."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("PYTHON", "PIP_")) and not name.endswith("_API_KEY")
           and name not in ("OPERATOR_HOME", "OPERATOR_AUTHD_SOCKET", "XDG_RUNTIME_DIR",
                            "VIRTUAL_ENV")}
    env.update({"PIP_CONFIG_FILE": os.devnull, "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(extra or {})
    return env


def cmake_project_version():
    with open(os.path.join(REPO_DIR, "CMakeLists.txt"), encoding="utf-8") as f:
        match = re.search(r"project\(\s*operator-authd\s+VERSION\s+([0-9.]+)", f.read())
    return match.group(1) if match else None


# Runs in the venv (python -I: no PYTHONPATH, no script dir, no user site): what an agent does.
CHECK_INSTALLED = r"""
import dataclasses, importlib.metadata, json, os, sys
import operator_auth_client as oac
from operator_auth.v1 import auth_pb2, auth_pb2_grpc
key = oac.AuthClient(sys.argv[1], env_fallback=False).get_api_key("openai")
print(json.dumps({
    "client_file": os.path.realpath(oac.__file__),
    "stubs_file": os.path.realpath(auth_pb2_grpc.__file__),
    "prefix": os.path.realpath(sys.prefix),
    "fields": [field.name for field in dataclasses.fields(oac.ApiKey)],
    "version": importlib.metadata.version("operator-auth-client"),
    "key": key.key, "provider": key.provider, "kind": key.kind, "source": key.source}))
"""


class PipInstallTest(unittest.TestCase):

    def setUp(self):
        if not DAEMON_BIN or not CTL_BIN:
            self.fail("set OPERATOR_AUTHD_BIN and OPERATORCTL_BIN (ctest does)")
        self.root = tempfile.mkdtemp(prefix="authd-pkg-")
        self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)
        self.venv = os.path.join(self.root, "venv")
        # sys.executable is Debian's /usr/bin/python3 under ctest.
        self.run_ok([sys.executable, "-m", "venv", "--system-site-packages", self.venv])
        self.pip = [os.path.join(self.venv, "bin", "python"), "-m", "pip", "--no-cache-dir",
                    "--disable-pip-version-check", "--no-input"]

    def run_ok(self, argv, **kwargs):
        result = subprocess.run(argv, capture_output=True, text=True, env=clean_env(),
                                cwd=self.root, timeout=PIP_TIMEOUT_S, check=False, **kwargs)
        self.assertEqual(result.returncode, 0, f"{' '.join(argv)} failed:\n"
                         f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    def start_daemon(self):
        home = os.path.join(self.root, "home")
        socket_path = os.path.join(self.root, "run", "authd.sock")
        config = os.path.join(self.root, "authd.json")
        log_path = os.path.join(self.root, "authd.log")
        with open(config, "w", encoding="utf-8") as f:
            json.dump(loopback_only_config(), f)
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [DAEMON_BIN, "--home", home, "--socket", socket_path, "--config", config],
                env=clean_env(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

        def log_tail():
            with open(log_path, encoding="utf-8", errors="replace") as f:
                return f.read()[-4000:]

        def stop():
            process.send_signal(signal.SIGTERM)
            try:
                status = process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                status = "still running after SIGTERM"
            self.assertEqual(status, 0, f"operator-authd did not exit cleanly:\n{log_tail()}")
        self.addCleanup(stop)

        deadline = time.monotonic() + START_TIMEOUT_S
        while not socket_accepts(socket_path):
            self.assertIsNone(process.poll(), f"operator-authd exited at start:\n{log_tail()}")
            self.assertLess(time.monotonic(), deadline,
                            f"operator-authd did not open its socket:\n{log_tail()}")
            time.sleep(0.01)
        return socket_path

    def test_install_import_and_get_key(self):
        # Build isolation on (pip's default): proves `requires = []` suffices, offline.
        self.run_ok(self.pip + ["install", "--no-index", PROJECT_DIR])

        socket_path = self.start_daemon()
        secret = "sk-package-test-0123456789"
        self.run_ok([CTL_BIN, "--socket", socket_path, "auth", "set", "openai", "--api-key", "-"],
                    input=secret + "\n")

        result = self.run_ok([os.path.join(self.venv, "bin", "python"), "-I", "-c",
                              CHECK_INSTALLED, socket_path])
        seen = json.loads(result.stdout)
        site = os.path.realpath(self.venv)
        self.assertTrue(seen["client_file"].startswith(site + os.sep), seen["client_file"])
        self.assertTrue(seen["stubs_file"].startswith(site + os.sep), seen["stubs_file"])
        self.assertEqual(seen["prefix"], site)
        self.assertIn("provider", seen["fields"])
        self.assertIn("kind", seen["fields"])
        self.assertEqual(seen["version"], cmake_project_version(),
                         "pyproject.toml's version differs from the top-level CMakeLists.txt's")
        self.assertEqual((seen["key"], seen["provider"], seen["kind"], seen["source"]),
                         (secret, "openai", "api_key", "stored"))

    def test_sdist_builds_a_wheel_on_its_own(self):
        sys.dont_write_bytecode = True  # nothing new in the source tree
        sys.path.insert(0, os.path.join(PROJECT_DIR, "build_backend"))
        try:
            import operator_auth_build  # pylint: disable=import-outside-toplevel
        finally:
            sys.path.pop(0)
        dist = os.path.join(self.root, "dist")
        sdist = operator_auth_build.build_sdist(dist)
        # pip unpacks the sdist elsewhere: the proto must come from the sdist itself.
        self.run_ok(self.pip + ["wheel", "--no-index", "--no-deps", "-w", dist,
                                os.path.join(dist, sdist)])
        wheels = [name for name in os.listdir(dist) if name.endswith(".whl")]
        self.assertEqual(len(wheels), 1, wheels)
        with zipfile.ZipFile(os.path.join(dist, wheels[0])) as wheel:
            names = set(wheel.namelist())
        for expected in ("operator_auth/__init__.py", "operator_auth/v1/__init__.py",
                         "operator_auth/v1/auth_pb2.py", "operator_auth/v1/auth_pb2_grpc.py",
                         "operator_auth_client/__init__.py"):
            self.assertIn(expected, names)

        # The backend's own TOML reader (for Python < 3.11) agrees with tomllib.
        try:
            import tomllib  # pylint: disable=import-outside-toplevel
        except ImportError:
            return
        with open(os.path.join(PROJECT_DIR, "pyproject.toml"), encoding="utf-8") as f:
            text = f.read()
        self.assertEqual(operator_auth_build.parse_simple_toml(text), tomllib.loads(text))


if __name__ == "__main__":
    unittest.main(verbosity=2)
