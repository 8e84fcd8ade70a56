#!/usr/bin/python3
"""The Python client against the real operator-authd on a temp home and socket.

Run with Debian's python3 (python3-grpcio, python3-protobuf), with PYTHONPATH at the generated
package (<build>/python) and the binaries named by OPERATOR_AUTHD_BIN and OPERATORCTL_BIN; ctest
does all of that. Every OAuth endpoint points at 127.0.0.1:9, where nothing listens, so no test can
reach the internet. Keys are recognisable fakes; none is printed except in an assertion's values.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
from unittest import mock

import grpc
from operator_auth.v1 import auth_pb2, auth_pb2_grpc

import operator_auth_client as oac
from daemon_support import CLOSED_LOOPBACK, loopback_only_config, socket_accepts

DAEMON_BIN = os.environ.get("OPERATOR_AUTHD_BIN", "")
CTL_BIN = os.environ.get("OPERATORCTL_BIN", "")
# tests/fake_oauth's server binary: a real HTTP provider on 127.0.0.1 (token, Code Assist, ...).
FAKE_OAUTH_BIN = os.environ.get("FAKE_OAUTH_SERVER_BIN", "")

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
# How long a watcher may take to see a change: the daemon pushes at once; the bound is generous
# for loaded CI machines. After a restart add the reconnect backoff (at most 5 s).
PROPAGATION_S = 5.0
RECONNECT_S = 15.0

# Variables of the caller or the daemon that would change what the tests see.
_PATH_VARS = ("OPERATOR_HOME", "OPERATOR_AUTHD_SOCKET", "XDG_RUNTIME_DIR")


def clean_env(extra=None):
    """This process's environment without the daemon's path variables and without any real
    {ID}_API_KEY, plus ``extra``."""
    env = {name: value for name, value in os.environ.items()
           if name not in _PATH_VARS and not name.endswith("_API_KEY")}
    env.update(extra or {})
    return env


def eventually(predicate, timeout, interval=0.02):
    """Polls ``predicate`` until it returns a true value or ``timeout`` passes; returns the last
    value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def key_or_error(watched, timeout=0.0):
    """The key ``watched.get`` returns, or the AuthError subclass it raises."""
    try:
        return watched.get(timeout=timeout).key
    except oac.AuthError as error:
        return type(error)


class Daemon:
    """The real operator-authd on ``root``/home and ``root``/run/authd.sock."""

    def __init__(self, root):
        self.root = root
        self.home = os.path.join(root, "home")
        self.socket_path = os.path.join(root, "run", "authd.sock")
        self.config_path = os.path.join(root, "authd.json")
        self.log_path = os.path.join(root, "authd.log")
        self.process = None

    @property
    def providers_path(self):
        return os.path.join(self.home, "auth", "providers.json")

    def start(self, env=None, config=None):
        with open(self.config_path, "w", encoding="utf-8") as f:
            json.dump(config or loopback_only_config(), f)
        argv = [DAEMON_BIN, "--home", self.home, "--socket", self.socket_path,
                "--config", self.config_path, "--log-level", "debug"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(argv, env=clean_env(env), stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"operator-authd exited at start ({self.process.returncode}):"
                                     f"\n{self.log()}")
            if socket_accepts(self.socket_path):
                return
            time.sleep(0.01)
        raise AssertionError(f"operator-authd did not open its socket within {START_TIMEOUT_S} s:"
                             f"\n{self.log()}")

    def stop(self):
        """SIGTERM; returns the exit status (None when it was not running)."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
            return f"still running {STOP_TIMEOUT_S} s after SIGTERM"

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()[-4000:]
        except FileNotFoundError:
            return ""

    def ctl(self, *args, stdin=""):
        return subprocess.run([CTL_BIN, "--socket", self.socket_path, *args], input=stdin,
                              capture_output=True, text=True, env=clean_env(), timeout=20,
                              check=False)

    def write_providers(self, providers):
        """Writes providers.json directly (the daemon is stopped, or notices the edit)."""
        auth_dir = os.path.dirname(self.providers_path)
        os.makedirs(auth_dir, mode=0o700, exist_ok=True)
        temp = self.providers_path + ".test-tmp"
        with open(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w",
                  encoding="utf-8") as f:
            json.dump(providers, f)
        os.replace(temp, self.providers_path)


class DaemonTestCase(unittest.TestCase):
    """Each test gets a temp dir, a daemon (started on demand) and a caller environment without
    any {ID}_API_KEY or daemon path variable."""

    def setUp(self):
        if not DAEMON_BIN or not CTL_BIN:
            self.fail("set OPERATOR_AUTHD_BIN and OPERATORCTL_BIN (ctest does)")
        root = tempfile.mkdtemp(prefix="authd-py-")
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        env_patch = mock.patch.dict(os.environ, clear=False)
        env_patch.start()
        self.addCleanup(env_patch.stop)
        for name in list(os.environ):
            if name in _PATH_VARS or name.endswith("_API_KEY"):
                del os.environ[name]
        self.daemon = Daemon(root)

    def tearDown(self):
        status = self.daemon.stop()
        if status is not None:
            self.assertEqual(status, 0,
                             f"operator-authd did not exit cleanly:\n{self.daemon.log()}")

    def start_daemon(self, env=None, config=None):
        self.daemon.start(env, config)

    def restart_daemon(self, env=None):
        status = self.daemon.stop()
        self.assertEqual(status, 0, f"operator-authd did not exit cleanly:\n{self.daemon.log()}")
        self.daemon.start(env)

    def new_client(self, **options):
        client = oac.AuthClient(self.daemon.socket_path, **options)
        self.addCleanup(client.close)
        return client

    def set_key(self, provider, key):
        result = self.daemon.ctl("auth", "set", provider, "--api-key", "-", stdin=key + "\n")
        self.assertEqual(result.returncode, 0, result.stderr)

    def unset_key(self, provider):
        result = self.daemon.ctl("auth", "unset", provider)
        self.assertEqual(result.returncode, 0, result.stderr)

    def set_runtime_key(self, provider, key):
        with grpc.insecure_channel(oac.unix_target(self.daemon.socket_path)) as channel:
            auth_pb2_grpc.AuthServiceStub(channel).SetRuntimeApiKey(
                auth_pb2.SetRuntimeApiKeyRequest(provider=provider, key=key), timeout=5)

    def store_expired_oauth(self, provider, access, refresh):
        self.daemon.write_providers({provider: {
            "type": "oauth", "access": access, "refresh": refresh,
            "expires": int(time.time() * 1000) - 60_000}})


class DefaultSocketPathTest(unittest.TestCase):
    """default_socket_path() follows common/default_paths.cc, checked by value and against the
    default that operatorctl (C++) shows."""

    def resolve(self, **env):
        with mock.patch.dict(os.environ, clear=False):
            for name in _PATH_VARS + ("HOME",):
                os.environ.pop(name, None)
            os.environ.update(env)
            return oac.default_socket_path()

    def test_explicit_socket_wins(self):
        self.assertEqual(self.resolve(OPERATOR_AUTHD_SOCKET="/s/authd.sock",
                                      XDG_RUNTIME_DIR="/run/user/7", OPERATOR_HOME="/h"),
                         "/s/authd.sock")

    def test_runtime_dir_comes_next(self):
        self.assertEqual(self.resolve(XDG_RUNTIME_DIR="/run/user/7", OPERATOR_HOME="/h"),
                         "/run/user/7/operator/authd.sock")

    def test_operator_home_without_runtime_dir(self):
        self.assertEqual(self.resolve(OPERATOR_HOME="/h", HOME="/home/u"), "/h/run/authd.sock")

    def test_home_when_nothing_else(self):
        self.assertEqual(self.resolve(HOME="/home/u"), "/home/u/.operator/run/authd.sock")

    def test_empty_variables_count_as_unset(self):
        self.assertEqual(self.resolve(OPERATOR_AUTHD_SOCKET="", XDG_RUNTIME_DIR="",
                                      OPERATOR_HOME="", HOME="/home/u"),
                         "/home/u/.operator/run/authd.sock")

    def test_empty_home_uses_the_passwd_entry(self):
        import pwd  # pylint: disable=import-outside-toplevel
        self.assertEqual(self.resolve(HOME=""),
                         pwd.getpwuid(os.getuid()).pw_dir + "/.operator/run/authd.sock")

    def test_client_uses_it_when_given_no_path(self):
        with mock.patch.dict(os.environ, {"OPERATOR_AUTHD_SOCKET": "/s/other.sock"}):
            with oac.AuthClient() as client:
                self.assertEqual(client.socket_path, "/s/other.sock")
            with oac.AuthClient(socket_path="") as client:
                self.assertEqual(client.socket_path, "/s/other.sock")

    def test_matches_operatorctl(self):
        if not CTL_BIN:
            self.fail("set OPERATORCTL_BIN (ctest does)")
        cases = [
            {"OPERATOR_AUTHD_SOCKET": "/s/authd.sock", "XDG_RUNTIME_DIR": "/run/user/7"},
            {"OPERATOR_AUTHD_SOCKET": "", "XDG_RUNTIME_DIR": "/run/user/7"},
            {"XDG_RUNTIME_DIR": "", "OPERATOR_HOME": "/h"},
            {"OPERATOR_HOME": "", "HOME": "/home/u"},
            {"HOME": ""},
        ]
        for env in cases:
            with self.subTest(env=env):
                child_env = {k: v for k, v in os.environ.items()
                             if k not in _PATH_VARS and k != "HOME"}
                child_env.update(env)
                result = subprocess.run([CTL_BIN, "--help"], capture_output=True, text=True,
                                        env=child_env, timeout=20, check=False)
                match = re.search(r"--socket PATH=(\S+)", result.stdout)
                self.assertIsNotNone(match, result.stdout)
                self.assertEqual(self.resolve(**env), match.group(1))


class ProviderIdTest(unittest.TestCase):
    """Provider ids and their variables follow common/provider_id.cc."""

    def test_env_var_name(self):
        self.assertEqual(oac.api_key_env_var("openai"), "OPENAI_API_KEY")
        self.assertEqual(oac.api_key_env_var("openai-codex"), "OPENAI_CODEX_API_KEY")
        self.assertEqual(oac.api_key_env_var("a.b_c-9"), "A_B_C_9_API_KEY")

    def test_validity(self):
        for good in ("openai", "0day", "a.b_c-d", "x" * 64):
            self.assertTrue(oac.is_valid_provider_id(good), good)
        for bad in ("", "Openai", "-x", "_x", "a b", "a/b", "x" * 65, "é", None, 7):
            self.assertFalse(oac.is_valid_provider_id(bad), bad)


class GetApiKeyTest(DaemonTestCase):
    """get_api_key: the daemon's resolution, then the caller's environment as a fallback."""

    def test_stored_key(self):
        self.start_daemon()
        self.set_key("acme-test", "sk-fake-py-stored")
        key = self.new_client().get_api_key("acme-test")
        self.assertEqual(key.key, "sk-fake-py-stored")
        self.assertEqual(key.source, oac.SOURCE_STORED)
        self.assertEqual(key.label, "providers.json (api_key)")
        self.assertEqual(key.expires_unix_ms, 0)
        self.assertNotIn("sk-fake-py-stored", repr(key))
        self.assertNotIn("sk-fake-py-stored", str(key))

    def test_runtime_key_wins_over_stored(self):
        self.start_daemon()
        self.set_key("acme-test", "sk-fake-py-stored")
        self.set_runtime_key("acme-test", "sk-fake-py-runtime")
        key = self.new_client().get_api_key("acme-test")
        self.assertEqual((key.key, key.source, key.label),
                         ("sk-fake-py-runtime", oac.SOURCE_RUNTIME, "runtime"))

    def test_daemon_environment(self):
        self.start_daemon(env={"OPENAI_API_KEY": "sk-fake-py-daemon-env"})
        key = self.new_client().get_api_key("openai")
        self.assertEqual((key.key, key.source, key.label),
                         ("sk-fake-py-daemon-env", oac.SOURCE_DAEMON_ENV, "OPENAI_API_KEY"))

    def test_daemon_key_wins_over_caller_environment(self):
        self.start_daemon()
        self.set_key("acme-test", "sk-fake-py-stored")
        os.environ["ACME_TEST_API_KEY"] = "sk-fake-py-caller"
        self.assertEqual(self.new_client().get_api_key("acme-test").key, "sk-fake-py-stored")

    def test_caller_environment_when_daemon_has_none(self):
        self.start_daemon()
        client = self.new_client()
        with self.assertRaises(oac.NotFound) as raised:
            client.get_api_key("acme-test")
        self.assertEqual(raised.exception.code, grpc.StatusCode.NOT_FOUND)
        self.assertEqual(raised.exception.provider, "acme-test")

        os.environ["ACME_TEST_API_KEY"] = "sk-fake-py-caller"
        key = client.get_api_key("acme-test")
        self.assertEqual((key.key, key.source, key.label),
                         ("sk-fake-py-caller", oac.SOURCE_CALLER_ENV,
                          "ACME_TEST_API_KEY (daemon has no credential)"))
        with self.assertRaises(oac.NotFound):
            self.new_client(env_fallback=False).get_api_key("acme-test")

    def test_caller_environment_when_daemon_is_down(self):
        client = self.new_client(timeout=1.0)  # nothing listens on the socket
        with self.assertRaises(oac.DaemonUnreachable) as raised:
            client.get_api_key("acme-test")
        self.assertIn(self.daemon.socket_path, str(raised.exception))
        self.assertIn("ACME_TEST_API_KEY is not set", str(raised.exception))

        os.environ["ACME_TEST_API_KEY"] = "sk-fake-py-caller"
        key = client.get_api_key("acme-test")
        self.assertEqual((key.key, key.source, key.label),
                         ("sk-fake-py-caller", oac.SOURCE_CALLER_ENV,
                          "ACME_TEST_API_KEY (daemon unreachable)"))
        with self.assertRaises(oac.DaemonUnreachable):
            self.new_client(env_fallback=False).get_api_key("acme-test")

    def test_caller_environment_after_daemon_stops(self):
        self.start_daemon()
        self.set_key("acme-test", "sk-fake-py-stored")
        client = self.new_client(timeout=1.0)
        self.assertEqual(client.get_api_key("acme-test").key, "sk-fake-py-stored")
        self.assertEqual(self.daemon.stop(), 0, self.daemon.log())
        os.environ["ACME_TEST_API_KEY"] = "sk-fake-py-caller"
        key = client.get_api_key("acme-test")
        self.assertEqual((key.key, key.source), ("sk-fake-py-caller", oac.SOURCE_CALLER_ENV))

    def test_bad_provider_id_is_a_clear_error(self):
        self.start_daemon()
        os.environ["BAD_ID_API_KEY"] = "sk-fake-py-caller"  # never consulted for a bad id
        client = self.new_client()
        for bad in ("Bad.Id", "", "a/b"):
            with self.subTest(provider=bad):
                with self.assertRaises(oac.InvalidArgument) as raised:
                    client.get_api_key(bad)
                self.assertIn("provider id", str(raised.exception))
                self.assertEqual(raised.exception.code, grpc.StatusCode.INVALID_ARGUMENT)

    def test_daemon_error_is_raised_not_replaced_by_environment(self):
        # The token expired and its refresh fails (127.0.0.1:9): the daemon answers an error of
        # its own, which must not be mistaken for "unreachable" or answered from the environment.
        self.store_expired_oauth("openai-codex", "at-fake-py-expired", "rt-fake-py")
        self.start_daemon()
        os.environ["OPENAI_CODEX_API_KEY"] = "sk-fake-py-caller"
        with self.assertRaises(oac.AuthError) as raised:
            self.new_client(timeout=10.0).get_api_key("openai-codex")
        self.assertNotIsInstance(raised.exception, (oac.DaemonUnreachable, oac.NotFound))
        self.assertNotIn("at-fake-py-expired", str(raised.exception))
        self.assertNotIn("rt-fake-py", str(raised.exception))

    def test_get_auth_status(self):
        self.start_daemon()
        self.set_key("acme-test", "sk-fake-py-stored")
        status = self.new_client().get_auth_status("acme-test")
        self.assertIsInstance(status, auth_pb2.AuthStatus)
        self.assertTrue(status.configured)
        self.assertEqual(status.source, auth_pb2.CREDENTIAL_SOURCE_STORED)
        self.assertEqual(status.stored_type, auth_pb2.STORED_CREDENTIAL_TYPE_API_KEY)
        self.assertEqual(status.env_var, "ACME_TEST_API_KEY")
        self.assertNotIn("sk-fake-py-stored", str(status))

        status = self.new_client().get_auth_status("openai")
        self.assertFalse(status.configured)
        with self.assertRaises(oac.InvalidArgument):
            self.new_client().get_auth_status("Bad")

    def test_list_providers(self):
        self.start_daemon()
        self.set_key("acme-test", "sk-fake-py-stored")
        providers = {p.id: p for p in self.new_client().list_providers()}
        self.assertIn("openai", providers)
        self.assertIn("openai-codex", providers)
        self.assertTrue(providers["acme-test"].status.configured)

    def test_module_functions_use_the_default_socket(self):
        self.start_daemon()
        self.set_key("acme-test", "sk-fake-py-stored")
        os.environ["OPERATOR_AUTHD_SOCKET"] = self.daemon.socket_path
        self.addCleanup(self.close_default_client, self.daemon.socket_path)
        self.assertEqual(oac.get_api_key("acme-test").key, "sk-fake-py-stored")
        self.assertTrue(oac.get_auth_status("acme-test").configured)

    def close_default_client(self, path):
        with mock.patch.dict(os.environ, {"OPERATOR_AUTHD_SOCKET": path}):
            oac.default_client().close()
        oac.client._default_clients.pop(path, None)  # pylint: disable=protected-access

    def test_socket_path_with_uri_characters(self):
        # gRPC reads unix: targets as URIs; '%', '?' and '#' in the path must still work.
        # (Not through operatorctl, which passes the path to gRPC unescaped.)
        self.daemon.socket_path = os.path.join(self.daemon.root, "r%41n?x#y", "authd.sock")
        self.daemon.write_providers({"acme-test": {"type": "api_key", "key": "sk-fake-py-stored"}})
        self.start_daemon()
        self.assertEqual(self.new_client().get_api_key("acme-test").key, "sk-fake-py-stored")


class KeyUsageTest(DaemonTestCase):
    """What a request needs besides the key: provider (canonical), kind, account, project, base
    URL and headers, in get_api_key and in the watch stream alike."""

    def in_one_hour_ms(self):
        return int(time.time() * 1000) + 3_600_000

    def test_an_api_key_is_of_kind_api_key(self):
        self.start_daemon()
        self.set_key("openai", "sk-fake-py-usage")
        key = self.new_client().get_api_key("openai")
        self.assertEqual((key.provider, key.kind, key.headers),
                         ("openai", oac.KIND_API_KEY, ()))

    def test_a_google_token_through_its_alias_carries_the_project(self):
        # pi writes "projectId" (packages/ai/src/utils/oauth/google-gemini-cli.ts); the daemon
        # reads it, so no Code Assist discovery is needed.
        self.daemon.write_providers({"google-gemini-cli": {
            "type": "oauth", "access": "ya29.fake-py-google", "refresh": "1//fake-py",
            "expires": self.in_one_hour_ms(), "projectId": "pi-project-py"}})
        self.start_daemon()
        key = self.new_client().get_api_key("gemini-cli")
        self.assertEqual(key.key, "ya29.fake-py-google")
        self.assertEqual((key.provider, key.kind, key.project_id, key.base_url),
                         ("google-gemini-cli", oac.KIND_OAUTH_ACCESS_TOKEN, "pi-project-py",
                          CLOSED_LOOPBACK))
        self.assertIn("Client-Metadata", dict(key.headers))
        self.assertNotIn("ya29.fake-py-google", repr(key))

    def test_the_watch_stream_carries_the_codex_account_header(self):
        self.daemon.write_providers({"openai-codex": {
            "type": "oauth", "access": "at-fake-py-codex", "refresh": "rt-fake-py-codex",
            "expires": self.in_one_hour_ms(), "account_id": "acct-py-1"}})
        self.start_daemon()
        watched = self.new_client().watch_api_key("codex")
        self.addCleanup(watched.close)
        key = watched.get(timeout=PROPAGATION_S)
        self.assertEqual((key.provider, key.account_id),
                         ("openai-codex", "acct-py-1"))
        self.assertEqual(dict(key.headers)["chatgpt-account-id"], "acct-py-1")


class FakeProviderTest(DaemonTestCase):
    """The Python client against the daemon and the fake provider (tests/fake_oauth) on
    127.0.0.1: what gemini-cli does before a Google token is usable (refresh, then Code Assist
    loadCodeAssist / onboardUser / operation polling) happens in the daemon, and the client
    gets the token with its project."""

    def start_fake(self, *args):
        if not FAKE_OAUTH_BIN:
            self.fail("set FAKE_OAUTH_SERVER_BIN (ctest does)")
        fake = subprocess.Popen([FAKE_OAUTH_BIN, *args], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
        def stop():
            fake.terminate()
            fake.wait(timeout=STOP_TIMEOUT_S)
            fake.stdout.close()
        self.addCleanup(stop)
        line = fake.stdout.readline()  # "listening 127.0.0.1:<port>"
        match = re.match(r"listening (127\.0\.0\.1:\d+)", line)
        self.assertIsNotNone(match, f"the fake provider said {line!r}")
        return "http://" + match.group(1)

    def test_a_refreshed_google_token_comes_with_its_onboarded_project(self):
        base = self.start_fake("--refresh-token", "rt-py-google-1")
        self.daemon.write_providers({"google-gemini-cli": {
            "type": "oauth", "access": "ya29.expired-py", "refresh": "rt-py-google-1",
            "expires": int(time.time() * 1000) - 60_000}})
        self.start_daemon(config=loopback_only_config(base))
        key = self.new_client(timeout=20.0).get_api_key("gemini-cli")
        self.assertEqual((key.provider, key.kind, key.project_id, key.base_url),
                         ("google-gemini-cli", oac.KIND_OAUTH_ACCESS_TOKEN, "proj-free-tier-1",
                          base))
        self.assertNotEqual(key.key, "ya29.expired-py")
        with open(self.daemon.providers_path, encoding="utf-8") as f:
            stored = json.load(f)
        self.assertEqual(stored["google-gemini-cli"]["project_id"], "proj-free-tier-1")


class WatchApiKeyTest(DaemonTestCase):
    """watch_api_key: a key kept current by the WatchApiKey stream, read from memory."""

    def watch(self, provider, client=None, **options):
        watched = (client or self.new_client()).watch_api_key(provider, **options)
        self.addCleanup(watched.close)
        return watched

    def test_first_value_is_the_current_key(self):
        self.start_daemon()
        self.set_key("acme-test", "sk-fake-py-first")
        watched = self.watch("acme-test")
        key = watched.get()
        self.assertEqual((key.key, key.source, key.label),
                         ("sk-fake-py-first", oac.SOURCE_STORED, "providers.json (api_key)"))
        first = next(iter(watched))
        self.assertTrue(first.present)
        self.assertEqual(first.api_key, key)

    def test_get_needs_no_round_trip(self):
        self.start_daemon()
        self.set_key("acme-test", "sk-fake-py-first")
        watched = self.watch("acme-test")
        self.assertEqual(watched.get().key, "sk-fake-py-first")
        # With the daemon stopped, get() still answers from memory.
        self.assertEqual(self.daemon.stop(), 0, self.daemon.log())
        self.assertEqual(watched.get(timeout=0).key, "sk-fake-py-first")

    def test_a_set_reaches_the_watcher(self):
        self.start_daemon()
        self.set_key("acme-test", "sk-fake-py-old")
        seen = []
        watched = self.watch("acme-test", on_update=seen.append)
        self.assertEqual(watched.get().key, "sk-fake-py-old")
        self.set_key("acme-test", "sk-fake-py-new")
        self.assertEqual(eventually(lambda: key_or_error(watched) == "sk-fake-py-new",
                                    PROPAGATION_S), True)
        self.assertEqual(eventually(lambda: [u.api_key.key for u in seen if u.present]
                                    == ["sk-fake-py-old", "sk-fake-py-new"], PROPAGATION_S),
                         True)

    def test_runtime_override_reaches_the_watcher(self):
        self.start_daemon()
        self.set_key("acme-test", "sk-fake-py-stored")
        watched = self.watch("acme-test")
        self.assertEqual(watched.get().key, "sk-fake-py-stored")
        self.set_runtime_key("acme-test", "sk-fake-py-runtime")
        self.assertTrue(eventually(lambda: key_or_error(watched) == "sk-fake-py-runtime",
                                   PROPAGATION_S))
        self.assertEqual(watched.get().source, oac.SOURCE_RUNTIME)

    def test_unset_gives_not_present(self):
        self.start_daemon()
        self.set_key("acme-test", "sk-fake-py-doomed")
        updates = []
        watched = self.watch("acme-test", on_update=updates.append)
        self.assertEqual(watched.get().key, "sk-fake-py-doomed")
        self.unset_key("acme-test")
        self.assertEqual(eventually(lambda: key_or_error(watched) is oac.NotFound, PROPAGATION_S),
                         True)
        self.assertTrue(eventually(lambda: len(updates) == 2, PROPAGATION_S), updates)
        last = updates[-1]
        self.assertFalse(last.present)
        self.assertIsNone(last.api_key)
        self.assertTrue(last.reason)
        # With nothing in the daemon, the caller's variable answers.
        os.environ["ACME_TEST_API_KEY"] = "sk-fake-py-caller"
        key = watched.get()
        self.assertEqual((key.key, key.source, key.label),
                         ("sk-fake-py-caller", oac.SOURCE_CALLER_ENV,
                          "ACME_TEST_API_KEY (daemon has no credential)"))

    def test_no_credential_at_start(self):
        self.start_daemon()
        watched = self.watch("acme-test")
        with self.assertRaises(oac.NotFound):
            watched.get()
        self.set_key("acme-test", "sk-fake-py-later")
        self.assertTrue(eventually(lambda: key_or_error(watched) == "sk-fake-py-later",
                                   PROPAGATION_S))

    def test_expired_token_is_never_handed_out(self):
        # Refreshing at 127.0.0.1:9 fails, so no fresh token ever comes.
        self.store_expired_oauth("openai-codex", "at-fake-py-expired", "rt-fake-py")
        self.start_daemon()
        watched = self.watch("openai-codex", wait=0.3)
        deadline = time.monotonic() + 3.0
        outcomes = set()
        while time.monotonic() < deadline:
            outcome = key_or_error(watched, timeout=0.3)
            self.assertNotEqual(outcome, "at-fake-py-expired")
            outcomes.add(outcome)
        self.assertTrue(outcomes and all(isinstance(o, type) and issubclass(o, oac.AuthError)
                                         for o in outcomes), outcomes)

    def test_key_past_its_expiry_is_never_handed_out(self):
        # A valid token, then the clock moves past its expiry: get() must wait for a fresh one and
        # give up with KeyExpired rather than return it.
        expires = int(time.time() * 1000) + 2 * 3600 * 1000
        self.daemon.write_providers({"openai-codex": {
            "type": "oauth", "access": "at-fake-py-valid", "refresh": "rt-fake-py",
            "expires": expires}})
        self.start_daemon()
        watched = self.watch("openai-codex", wait=0.3)
        key = watched.get()
        self.assertEqual((key.key, key.expires_unix_ms), ("at-fake-py-valid", expires))
        later = expires + 1000
        with mock.patch("operator_auth_client.watched_key.now_ms", return_value=later), \
                mock.patch("operator_auth_client.api_key.now_ms", return_value=later):
            self.assertIs(key_or_error(watched, timeout=0.3), oac.KeyExpired)
            # A fresh key that arrives while get() waits is the answer.
            setter = threading.Timer(0.3, self.set_runtime_key,
                                     ("openai-codex", "sk-fake-py-fresh"))
            setter.start()
            self.addCleanup(setter.join)
            self.assertEqual(watched.get(timeout=PROPAGATION_S).key, "sk-fake-py-fresh")
        self.set_runtime_key("openai-codex", "")
        self.assertTrue(eventually(lambda: key_or_error(watched) == "at-fake-py-valid",
                                   PROPAGATION_S))

    def test_reconnects_after_daemon_restart(self):
        self.start_daemon()
        self.set_key("acme-test", "sk-fake-py-before")
        watched = self.watch("acme-test")
        self.assertEqual(watched.get().key, "sk-fake-py-before")
        self.assertEqual(self.daemon.stop(), 0, self.daemon.log())
        # While the daemon is away the key changes on disk; the next daemon serves it.
        self.daemon.write_providers({"acme-test": {"type": "api_key", "key": "sk-fake-py-after"}})
        time.sleep(0.5)  # let the watcher notice and back off
        self.assertEqual(watched.get(timeout=0).key, "sk-fake-py-before")
        self.start_daemon()
        self.assertTrue(eventually(lambda: key_or_error(watched) == "sk-fake-py-after",
                                   RECONNECT_S))
        # And it keeps following changes on the new stream.
        self.set_key("acme-test", "sk-fake-py-again")
        self.assertTrue(eventually(lambda: key_or_error(watched) == "sk-fake-py-again",
                                   PROPAGATION_S))

    def test_daemon_down_at_start_falls_back_then_follows_it(self):
        watched = self.watch("acme-test")
        with self.assertRaises(oac.DaemonUnreachable):
            watched.get()
        os.environ["ACME_TEST_API_KEY"] = "sk-fake-py-caller"
        key = watched.get()
        self.assertEqual((key.key, key.source, key.label),
                         ("sk-fake-py-caller", oac.SOURCE_CALLER_ENV,
                          "ACME_TEST_API_KEY (daemon unreachable)"))
        self.daemon.write_providers({"acme-test": {"type": "api_key", "key": "sk-fake-py-stored"}})
        self.start_daemon()
        self.assertTrue(eventually(lambda: key_or_error(watched) == "sk-fake-py-stored",
                                   RECONNECT_S))

    def test_bad_provider_id(self):
        with self.assertRaises(oac.InvalidArgument) as raised:
            self.new_client().watch_api_key("Bad.Id")
        self.assertIn("provider id", str(raised.exception))

    def test_iteration_follows_changes_until_close(self):
        self.start_daemon()
        self.set_key("acme-test", "sk-fake-py-1")
        watched = self.watch("acme-test")
        seen = []

        def consume():
            for update in watched:
                seen.append(update.api_key.key if update.present else None)

        consumer = threading.Thread(target=consume, daemon=True)
        consumer.start()
        self.assertTrue(eventually(lambda: seen == ["sk-fake-py-1"], PROPAGATION_S), seen)
        self.set_key("acme-test", "sk-fake-py-2")
        self.assertTrue(eventually(lambda: seen[-1:] == ["sk-fake-py-2"], PROPAGATION_S), seen)
        watched.close()
        consumer.join(timeout=5)
        self.assertFalse(consumer.is_alive())

    def test_close_stops_the_thread(self):
        self.start_daemon()
        self.set_key("acme-test", "sk-fake-py-1")
        client = self.new_client()
        watched = client.watch_api_key("acme-test")
        self.assertEqual(watched.get().key, "sk-fake-py-1")
        thread = watched._thread  # pylint: disable=protected-access
        watched.close()
        self.assertFalse(thread.is_alive())
        with self.assertRaises(oac.AuthError):
            watched.get()
        # Closing the client closes the watchers it made.
        other = client.watch_api_key("acme-test")
        self.assertEqual(other.get().key, "sk-fake-py-1")
        client.close()
        with self.assertRaises(oac.AuthError):
            other.get()
        with self.assertRaises(oac.AuthError):
            client.get_api_key("acme-test")

    def test_forked_child_gets_a_clear_error(self):
        # grpcio runs without fork support: a watcher cannot follow its stream into a child.
        self.start_daemon()
        self.set_key("acme-test", "sk-fake-py-1")
        watched = self.watch("acme-test")
        self.assertEqual(watched.get().key, "sk-fake-py-1")
        pid = os.fork()
        if pid == 0:
            try:
                watched.get(timeout=0)
                status = 1
            except oac.AuthError as error:
                status = 0 if "fork" in str(error) else 2
            except BaseException:  # pylint: disable=broad-except
                status = 3
            os._exit(status)  # pylint: disable=protected-access
        _, wait_status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(wait_status), 0)
        self.assertEqual(watched.get().key, "sk-fake-py-1")  # the parent's is unaffected


if __name__ == "__main__":
    unittest.main(verbosity=2)
