"""The PEP 517 build backend of the operator-auth-client package (pyproject.toml names it).

Plain Python stdlib, so pip builds with `requires = []`: nothing comes from PyPI, and an offline
machine with Debian's packages installs with `pip install ./client/python`.

At wheel build time it generates the gRPC stubs (never committed) exactly as
client/python/CMakeLists.txt does for the in-tree tests: protoc with --python_out and
--grpc_python_out (Debian's protobuf-compiler and protobuf-compiler-grpc) on
proto/operator_auth/v1/auth.proto, giving operator_auth/v1/auth_pb2.py and auth_pb2_grpc.py plus
empty operator_auth/__init__.py and operator_auth/v1/__init__.py, next to our
operator_auth_client/. $PROTOC and $GRPC_PYTHON_PLUGIN override the tools found on PATH.

The proto is read from proto/ in this project (an sdist made here carries a copy), else from the
repository checkout two directories up (client/python -> the repository root).
"""

import base64
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
import zipfile

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTO_FILE = "operator_auth/v1/auth.proto"  # relative to the proto root, as protoc sees it
PACKAGE = "operator_auth_client"  # ours, copied from the source tree
GENERATED_PACKAGES = ("operator_auth", "operator_auth/v1")  # each gets an empty __init__.py
GENERATED_STUBS = ("operator_auth/v1/auth_pb2.py", "operator_auth/v1/auth_pb2_grpc.py")
TOP_LEVEL = ("operator_auth", "operator_auth_client")
WHEEL_TAG = "py3-none-any"


class BuildError(RuntimeError):
    """A build failure with a message meant for the person running pip."""


# --- PEP 517 hooks -------------------------------------------------------------------------------

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    meta = _project_metadata()
    dist_info = _dist_info_name(meta)
    target = os.path.join(metadata_directory, dist_info)
    os.makedirs(target, exist_ok=True)
    for name, data in _dist_info_files(meta).items():
        with open(os.path.join(target, name), "wb") as f:
            f.write(data)
    return dist_info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    meta = _project_metadata()
    files = []  # (path in the wheel, bytes)
    for name in sorted(os.listdir(os.path.join(PROJECT_DIR, PACKAGE))):
        if name.endswith(".py"):
            with open(os.path.join(PROJECT_DIR, PACKAGE, name), "rb") as f:
                files.append((f"{PACKAGE}/{name}", f.read()))
    files.extend(_generate_stubs())
    dist_info = _dist_info_name(meta)
    files.extend((f"{dist_info}/{name}", data) for name, data in _dist_info_files(meta).items())

    record_path = f"{dist_info}/RECORD"
    record = io.StringIO()
    for path, data in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.write(f"{path},sha256={digest},{len(data)}\n")
    record.write(f"{record_path},,\n")
    files.append((record_path, record.getvalue().encode()))

    wheel_name = f"{_dist_name(meta)}-{meta['version']}-{WHEEL_TAG}.whl"
    os.makedirs(wheel_directory, exist_ok=True)
    temp_path = os.path.join(wheel_directory, wheel_name + ".tmp")
    with zipfile.ZipFile(temp_path, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        for path, data in files:
            info = zipfile.ZipInfo(path, date_time=_zip_time())
            info.external_attr = (0o100644 & 0xFFFF) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(info, data)
    os.replace(temp_path, os.path.join(wheel_directory, wheel_name))
    return wheel_name


def build_sdist(sdist_directory, config_settings=None):
    """The package sources, this backend, README, pyproject.toml and a copy of the proto (at
    proto/operator_auth/v1/auth.proto), so a wheel builds from the sdist alone."""
    meta = _project_metadata()
    base = f"{_dist_name(meta)}-{meta['version']}"
    members = []  # (path in the sdist, source file)
    for name in ("pyproject.toml", "README.md"):
        members.append((name, os.path.join(PROJECT_DIR, name)))
    members.append(("build_backend/operator_auth_build.py", os.path.abspath(__file__)))
    for name in sorted(os.listdir(os.path.join(PROJECT_DIR, PACKAGE))):
        if name.endswith(".py"):
            members.append((f"{PACKAGE}/{name}", os.path.join(PROJECT_DIR, PACKAGE, name)))
    members.append((f"proto/{PROTO_FILE}", os.path.join(_proto_root(), PROTO_FILE)))

    sdist_name = base + ".tar.gz"
    os.makedirs(sdist_directory, exist_ok=True)
    temp_path = os.path.join(sdist_directory, sdist_name + ".tmp")
    mtime = _epoch()
    with open(temp_path, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=mtime) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(path, data):
            info = tarfile.TarInfo(f"{base}/{path}")
            info.size, info.mtime, info.mode = len(data), mtime, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
        add("PKG-INFO", _metadata_file(meta))
        for path, source in members:
            with open(source, "rb") as f:
                add(path, f.read())
    os.replace(temp_path, os.path.join(sdist_directory, sdist_name))
    return sdist_name


# --- Stubs ---------------------------------------------------------------------------------------

def _proto_root():
    for root in (os.path.join(PROJECT_DIR, "proto"),
                 os.path.join(PROJECT_DIR, os.pardir, os.pardir, "proto")):
        if os.path.isfile(os.path.join(root, PROTO_FILE)):
            return os.path.normpath(root)
    raise BuildError(
        f"cannot find {PROTO_FILE}: build from the repository's client/python directory (the "
        f"proto is at <repository>/proto/{PROTO_FILE}) or from an sdist made by this backend "
        f"(it carries proto/{PROTO_FILE}); looked in {PROJECT_DIR}/proto and "
        f"{PROJECT_DIR}/../../proto")


def _find_tool(env_var, name, debian_package):
    path = os.environ.get(env_var) or shutil.which(name)
    if not path or not os.access(path, os.X_OK):
        where = f"${env_var}={os.environ[env_var]!r}" if os.environ.get(env_var) else "PATH"
        raise BuildError(
            f"{name} not found ({where}): generating the Python gRPC stubs needs protoc and "
            f"grpc_python_plugin; on Debian: apt-get install {debian_package} (or set ${env_var})")
    return path


def _generate_stubs():
    """Runs protoc; returns [(path in the wheel, bytes)] for the generated packages."""
    protoc = _find_tool("PROTOC", "protoc", "protobuf-compiler")
    plugin = _find_tool("GRPC_PYTHON_PLUGIN", "grpc_python_plugin", "protobuf-compiler-grpc")
    proto_root = _proto_root()
    with tempfile.TemporaryDirectory(prefix="operator-auth-stubs-") as out:
        argv = [protoc, "-I", proto_root, f"--python_out={out}", f"--grpc_python_out={out}",
                f"--plugin=protoc-gen-grpc_python={plugin}",
                os.path.join(proto_root, PROTO_FILE)]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BuildError(f"protoc failed (exit {result.returncode}): {' '.join(argv)}\n"
                             f"{result.stderr.strip()}")
        files = [(f"{package}/__init__.py", b"") for package in GENERATED_PACKAGES]
        for stub in GENERATED_STUBS:
            path = os.path.join(out, stub)
            if not os.path.isfile(path):
                raise BuildError(f"protoc did not write {stub}: {' '.join(argv)}")
            with open(path, "rb") as f:
                files.append((stub, f.read()))
        return files


# --- Metadata ------------------------------------------------------------------------------------

def _project_metadata():
    path = os.path.join(PROJECT_DIR, "pyproject.toml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        import tomllib  # pylint: disable=import-outside-toplevel
        project = tomllib.loads(text).get("project", {})
    except ImportError:  # Python < 3.11
        project = parse_simple_toml(text).get("project", {})
    meta = {}
    for key in ("name", "version", "description", "readme", "requires-python"):
        value = project.get(key)
        if not isinstance(value, str) or not value:
            raise BuildError(f"{path}: [project] {key} must be a non-empty string")
        meta[key] = value
    dependencies = project.get("dependencies", [])
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise BuildError(f"{path}: [project] dependencies must be a list of strings")
    meta["dependencies"] = dependencies
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)*", meta["version"]):
        raise BuildError(f"{path}: version {meta['version']!r} is not of the form 1.2.3")
    if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?", meta["name"]):
        raise BuildError(f"{path}: {meta['name']!r} is not a valid project name")
    return meta


def _dist_name(meta):
    """The name as wheel and sdist file names spell it (operator_auth_client)."""
    return re.sub(r"[-_.]+", "_", meta["name"]).lower()


def _dist_info_name(meta):
    return f"{_dist_name(meta)}-{meta['version']}.dist-info"


def _metadata_file(meta):
    """METADATA (and the sdist's PKG-INFO): core metadata 2.1, the README as the description."""
    headers = [("Metadata-Version", "2.1"), ("Name", meta["name"]), ("Version", meta["version"]),
               ("Summary", meta["description"]), ("Requires-Python", meta["requires-python"])]
    headers.extend(("Requires-Dist", dependency) for dependency in meta["dependencies"])
    headers.append(("Description-Content-Type", "text/markdown"))
    for name, value in headers:
        if "\n" in value or "\r" in value:
            raise BuildError(f"pyproject.toml: {name} must be one line")
    with open(os.path.join(PROJECT_DIR, meta["readme"]), encoding="utf-8") as f:
        readme = f.read()
    text = "".join(f"{name}: {value}\n" for name, value in headers) + "\n" + readme
    return text.encode("utf-8")


def _dist_info_files(meta):
    wheel = ("Wheel-Version: 1.0\n"
             "Generator: operator_auth_build (client/python/build_backend)\n"
             "Root-Is-Purelib: true\n"
             f"Tag: {WHEEL_TAG}\n")
    return {"METADATA": _metadata_file(meta),
            "WHEEL": wheel.encode(),
            "top_level.txt": "".join(name + "\n" for name in TOP_LEVEL).encode()}


def _epoch():
    """$SOURCE_DATE_EPOCH (reproducible builds), else 1980-01-01, the earliest a zip can store."""
    return max(int(os.environ.get("SOURCE_DATE_EPOCH", "0") or 0), 315532800)


def _zip_time():
    return time.gmtime(_epoch())[:6]


# --- pyproject.toml without tomllib --------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>[ \t\r]+) | (?P<comment>\#[^\n]*) | (?P<newline>\n)
  | (?P<basic>"(?:[^"\\\n]|\\.)*") | (?P<literal>'[^'\n]*')
  | (?P<bare>[A-Za-z0-9_-]+) | (?P<punct>[\[\]=,.])
""", re.VERBOSE)


def parse_simple_toml(text):
    """The TOML subset pyproject.toml uses here, for Pythons without tomllib: [tables], (dotted)
    keys, "basic" and 'literal' strings and arrays of strings. Raises BuildError on anything
    else."""
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise BuildError(f"pyproject.toml: unsupported TOML at {text[position:position + 20]!r}"
                             " (Python < 3.11 reads only strings and lists of strings)")
        position = match.end()
        if match.lastgroup not in ("space", "comment"):
            tokens.append((match.lastgroup, match.group()))
    tokens.append(("newline", "\n"))
    index = 0

    def take(kind=None, value=None):
        nonlocal index
        token = tokens[index] if index < len(tokens) else ("end", "")
        if (kind and token[0] != kind) or (value and token[1] != value):
            raise BuildError(f"pyproject.toml: unexpected {token[1]!r} (Python < 3.11 reads only "
                             "strings and lists of strings)")
        index += 1
        return token

    def peek():
        return tokens[index] if index < len(tokens) else ("end", "")

    def string(token):
        kind, raw = token
        if kind == "basic":
            return json.loads(raw)
        if kind == "literal":
            return raw[1:-1]
        raise BuildError(f"pyproject.toml: expected a string, got {raw!r}")

    def key():
        parts = []
        while True:
            token = take()
            parts.append(token[1] if token[0] == "bare" else string(token))
            if peek() != ("punct", "."):
                return parts
            take()

    def skip_newlines():
        while peek()[0] == "newline":
            take()

    root = {}
    table = root
    skip_newlines()
    while index < len(tokens):
        if peek() == ("punct", "["):
            take()
            table = root
            for part in key():
                table = table.setdefault(part, {})
            take("punct", "]")
        else:
            parts = key()
            take("punct", "=")
            if peek() == ("punct", "["):
                take()
                value = []
                skip_newlines()
                while peek() != ("punct", "]"):
                    value.append(string(take()))
                    skip_newlines()
                    if peek() != ("punct", "]"):
                        take("punct", ",")
                        skip_newlines()
                take()
            else:
                value = string(take())
            target = table
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = value
        take("newline")
        skip_newlines()
    return root
