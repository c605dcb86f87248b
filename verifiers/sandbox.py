"""Run untrusted Python in a Docker sandbox, and judge submitted functions by hidden tests.

Everything synthgym did not ship (a program a policy submits in a code task, code written
by a synthesis agent) runs here, in a container of the offline-built image
``SANDBOX_IMAGE`` (recipe: ``verifiers/sandbox_image/``; build and engine:
``bash scripts/setup-sandbox.sh``), through the Docker SDK for Python against a real
``dockerd``.

Isolation of every container
----------------------------
``network_mode="none"`` (only ``lo``, no route), read-only root, size-limited ``noexec``
tmpfs for ``/tmp`` and ``/work`` (nothing else is writable but docker's ``/dev/shm`` and
``/dev/mqueue``), uid/gid 65534, ``cap_drop=["ALL"]``, ``no-new-privileges``, memory with no
swap, pids and CPU limits, ``nofile``/``core`` ulimits, logging driver ``none`` (an endless
stdout cannot fill the host's disk), no docker socket, no host mounts, labels
``synthgym.sandbox=1`` plus the owner's pid and host so :func:`sweep_orphans` can remove
what a crashed process left behind. The image is checked before use: the SDK is never
given the chance to pull it.

Inside, the verifier-owned harness (``sandbox_image/harness.py``) is PID 1: the namespace's
init ignores signals it has no handler for and it is non-dumpable, so untrusted code (same
uid) can neither kill, ptrace nor read it. It forks a worker per request from its pristine
state; the worker runs the program with the wall-clock timeout and output caps, kills every
leftover process, and reports. The host enforces its own deadline on top (the timeout plus
``grace_s``): if no answer has arrived by then, it kills and removes the container itself.
Output is capped while it is read, inside (the worker) and outside (the host reader).
Every container is removed in a ``finally``.

Fresh container or warm pool
----------------------------
``Sandbox()`` starts a fresh container per run (about 0.3 s on 2 cores; ~5 runs/s at
best). ``Sandbox(pool_size=N)`` keeps N warm containers with the same isolation and serves
many runs per container over its attached stdin/stdout, with no docker call per run. After
each run the harness resets the container: it kills every process but itself, empties every
writable place (``/tmp``, ``/work``, ``/dev/shm``, ``/dev/mqueue``), removes SysV IPC objects,
and then *verifies* that only PID 1 remains, those places are empty and no IPC object is
left; the host reuses the container only if that verification says clean, and destroys it
after any timeout, crash or protocol error. The next run's worker is forked from a
supervisor that never held a request, so no memory of a run reaches the next one.
:func:`judge_function` uses a shared pool.

Why a verdict cannot be spoofed
-------------------------------
The container never produces a verdict. For a code task, :func:`judge_function` sends the
submitted source, the function's name and the hidden *inputs*; the harness calls the
function once per input, each in its own freshly forked process (a crash, hang, or
``os._exit`` in one input only loses that input; leftovers are killed and ``/tmp``,
``/work`` emptied between inputs), and returns, per input, the JSON of the *return value*,
written to a private pipe, never the process's stdout. The host parses that JSON strictly
(size-capped, plain JSON types, no NaN) and compares it with the *expected values, which
never enter the container*. Hence:

* printing "PASSED" goes to a capped log the verdict never reads;
* ``sys.exit(0)`` / ``os._exit(0)`` before returning yields no return value: failure;
* writing a fake result file changes nothing: no file is read for the verdict;
* redefining a checker, ``json.dumps``, ``__eq__`` etc. only acts inside the container, where
  nothing is checked; what crosses is plain JSON (an object whose ``__eq__`` always says
  yes cannot cross), and the comparison runs on the host;
* even forging the harness's result channel only *claims* a return value. Claiming the
  right value for a hidden input is the same as computing it, i.e. solving the task.

Inputs for :func:`judge_function` are lists of positional arguments, one list per call.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import json
import math
import os
import socket
import statistics
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

__all__ = [
    "SANDBOX_IMAGE", "SETUP_HINT", "Sandbox", "SandboxResult", "SandboxUnavailable",
    "bench_sandbox", "engine_available", "image_available", "image_tag", "judge_function",
    "outputs_match", "recipe_hash", "sandbox_containers", "sweep_orphans",
]

RECIPE_DIR = Path(__file__).resolve().parent / "sandbox_image"
IMAGE_REPOSITORY = "synthgym-sandbox"
LABEL = "synthgym.sandbox"
SETUP_HINT = "bash scripts/setup-sandbox.sh"
HARNESS_CMD = ["/usr/bin/python3", "-I", "-S", "-B", "/opt/synthgym/harness.py"]
SANDBOX_UID = "65534:65534"

_MAGIC = b"SGX1"
_HDR = struct.Struct(">4sI")
_MAX_REQUEST = 64 * 1024 * 1024  # same bounds as the harness
_MAX_RESPONSE = 32 * 1024 * 1024
_MAX_INPUTS = 256
_STDERR_KEEP = 16 * 1024


# ---------------------------------------------------------------- image identity
def recipe_hash(recipe_dir: Path = RECIPE_DIR) -> str:
    """sha256 over the recipe folder (relative names and contents, in a fixed order)."""
    digest = hashlib.sha256()
    paths = sorted(
        (p for p in recipe_dir.rglob("*")
         if p.is_file() and "__pycache__" not in p.parts
         and not p.name.startswith(".") and not p.name.endswith((".pyc", ".pyo"))),
        key=lambda p: p.relative_to(recipe_dir).as_posix())
    for path in paths:
        rel = path.relative_to(recipe_dir).as_posix()
        digest.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def image_tag() -> str:
    """``synthgym-sandbox:<first 12 hex of the recipe hash>``: one build per machine and recipe."""
    return f"{IMAGE_REPOSITORY}:{recipe_hash()[:12]}"


SANDBOX_IMAGE = image_tag()


class SandboxUnavailable(Exception):
    """No Docker engine answers, the SDK is missing, or the sandbox image is not built."""


# ---------------------------------------------------------------- engine access
_client_lock = threading.Lock()
_client = None


def _docker():
    try:
        import docker  # noqa: PLC0415  (imported lazily: the setup script runs this file bare)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SandboxUnavailable(
            "The Docker SDK for Python is not installed (pip install 'docker>=7'); "
            f"then start the engine and build the image with: {SETUP_HINT}") from exc
    return docker


def _engine():
    """A shared, pinged Docker client, or SandboxUnavailable saying how to get one."""
    global _client
    with _client_lock:
        if _client is not None:
            return _client
        docker = _docker()
        try:
            client = docker.from_env(version="auto", timeout=60, max_pool_size=64)
            client.ping()
        except Exception as exc:
            raise SandboxUnavailable(
                f"No Docker engine answers ({type(exc).__name__}: {exc}). Untrusted code runs "
                f"only in the Docker sandbox: as root, run `{SETUP_HINT}` (installs docker.io "
                "when missing, starts dockerd, builds the sandbox image offline).") from exc
        _client = client
        return client


def engine_available() -> bool:
    """True when a Docker engine answers a ping."""
    try:
        _engine().ping()
        return True
    except Exception:
        return False


def image_available(tag: str | None = None) -> bool:
    """True when the sandbox image (default: :data:`SANDBOX_IMAGE`) exists locally."""
    try:
        _engine().api.inspect_image(tag or SANDBOX_IMAGE)
        return True
    except Exception:
        return False


def _require_image(tag: str) -> None:
    client = _engine()
    docker = _docker()
    try:
        client.api.inspect_image(tag)
    except docker.errors.ImageNotFound as exc:
        raise SandboxUnavailable(
            f"The sandbox image {tag} is not built on this machine (it is never pulled). "
            f"Build it offline, as root, with: {SETUP_HINT}") from exc
    except Exception as exc:
        raise SandboxUnavailable(
            f"The Docker engine did not answer about image {tag} ({exc}); run {SETUP_HINT}"
        ) from exc


# ---------------------------------------------------------------- results
@dataclass(frozen=True)
class SandboxResult:
    """What one run produced. ``exit_code`` is None when the run was killed (timeout, output
    cap, host deadline) or the harness could not report; negative for a signal (an
    OOM kill is -9 with ``oom_killed``). ``stdout`` and ``stderr`` together hold at most
    ``output_cap`` bytes; ``files`` (from /work/out) at most ``files_cap``."""

    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool
    oom_killed: bool
    output_truncated: bool
    duration_s: float
    files: dict[str, bytes] = field(default_factory=dict)


class _Deadline(Exception):
    pass


class _Closed(Exception):
    pass


class _ProtocolError(Exception):
    pass


@dataclass
class _Failure:
    message: str
    timed_out: bool = False
    oom_killed: bool = False
    too_big: bool = False


def _frame(obj: dict) -> bytes:
    payload = json.dumps(obj, separators=(",", ":")).encode()
    return _HDR.pack(_MAGIC, len(payload)) + payload


def _b64(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


class _Conn:
    """The attach socket of one container: frames out on stdin, docker-multiplexed in."""

    def __init__(self, sock_obj):
        self._holder = sock_obj
        self.sock = getattr(sock_obj, "_sock", sock_obj)
        self.raw = bytearray()
        self.out = bytearray()
        self.err = bytearray()
        self.received = 0

    def send(self, data: bytes, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Deadline()
        self.sock.settimeout(remaining)
        try:
            self.sock.sendall(data)
        except socket.timeout as exc:
            raise _Deadline() from exc
        except OSError as exc:
            raise _Closed(str(exc)) from exc

    def _pump(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Deadline()
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout as exc:
            raise _Deadline() from exc
        except OSError as exc:
            raise _Closed(str(exc)) from exc
        if not chunk:
            raise _Closed("the container closed its output")
        self.received += len(chunk)
        self.raw += chunk
        pos = 0
        while len(self.raw) - pos >= 8:
            stream = self.raw[pos]
            size = int.from_bytes(self.raw[pos + 4:pos + 8], "big")
            if len(self.raw) - pos - 8 < size:
                break
            payload = self.raw[pos + 8:pos + 8 + size]
            pos += 8 + size
            if stream == 2:
                room = _STDERR_KEEP - len(self.err)
                if room > 0:
                    self.err += payload[:room]
            else:
                self.out += payload
        if pos:
            del self.raw[:pos]
        if len(self.out) + len(self.raw) > _MAX_RESPONSE + 2 * _HDR.size + (1 << 20):
            raise _ProtocolError("the container sent more than the response cap")

    def read_frame(self, deadline: float) -> dict:
        while True:
            if len(self.out) >= _HDR.size:
                magic, length = _HDR.unpack(self.out[:_HDR.size])
                if magic != _MAGIC or length > _MAX_RESPONSE:
                    raise _ProtocolError("garbled frame from the harness")
                if len(self.out) >= _HDR.size + length:
                    payload = bytes(self.out[_HDR.size:_HDR.size + length])
                    del self.out[:_HDR.size + length]
                    try:
                        return json.loads(payload)
                    except ValueError as exc:
                        raise _ProtocolError("unparsable frame from the harness") from exc
            self._pump(deadline)

    def close(self) -> None:
        for obj in (self.sock, self._holder):
            try:
                obj.close()
            except Exception:
                pass


class _Box:
    """One sandbox container (running the harness) and its attach connection."""

    def __init__(self, sandbox: "Sandbox", mode: str):
        api = _engine().api
        self.api = api
        self.mode = mode
        self.uses = 0
        self.id = None
        self.conn = None
        container = api.create_container(
            sandbox.image,
            command=HARNESS_CMD + [mode],
            user=SANDBOX_UID,
            working_dir="/work",
            environment={"LANG": "C.UTF-8", "PATH": "/usr/local/bin:/usr/bin:/bin",
                         "HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1"},
            labels={LABEL: "1", f"{LABEL}.pid": str(os.getpid()),
                    f"{LABEL}.host": socket.gethostname(), f"{LABEL}.mode": mode},
            host_config=sandbox._host_config(),
            stdin_open=True,
            detach=False,  # with stdin_open: StdinOnce, so a dead host closes our stdin
            network_disabled=True,
            hostname="sandbox",
        )
        self.id = container["Id"]
        try:
            self.conn = _Conn(api.attach_socket(
                self.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}))
            api.start(self.id)
        except BaseException:
            self.destroy()
            raise

    def request(self, data: bytes, deadline: float) -> tuple[dict, dict]:
        self.uses += 1
        self.conn.send(data, deadline)
        response = self.conn.read_frame(deadline)
        status = self.conn.read_frame(deadline)
        if status.get("type") != "status":
            raise _ProtocolError("the harness sent no status frame")
        return response, status

    def oom_killed(self) -> bool:
        try:
            return bool(self.api.inspect_container(self.id)["State"].get("OOMKilled"))
        except Exception:
            return False

    def stderr_tail(self) -> str:
        return bytes(self.conn.err[-2000:]).decode("utf-8", "replace") if self.conn else ""

    def destroy(self) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.id is not None:
            try:
                self.api.remove_container(self.id, force=True)
            except Exception as exc:  # already gone is fine; anything else: try once more
                if "No such container" not in str(exc) and "404" not in str(exc):
                    time.sleep(0.2)
                    try:
                        self.api.remove_container(self.id, force=True)
                    except Exception:
                        pass
            self.id = None


# ---------------------------------------------------------------- the sandbox
class Sandbox:
    """Runs untrusted Python with the limits given here; see the module docstring.

    ``pool_size=0`` (default): a fresh container per run. ``pool_size=N``: N warm
    containers, reset and verified clean between runs. Thread-safe; use as a context
    manager or call :meth:`close` (pool containers are also removed at exit)."""

    def __init__(self, *, memory_mb: int = 256, pids: int = 64, cpus: float = 1.0,
                 tmp_mb: int = 64, work_mb: int = 64, shm_mb: int = 16,
                 timeout_s: float = 10.0, output_cap: int = 64 * 1024,
                 files_cap: int = 1024 * 1024, grace_s: float = 5.0, pool_size: int = 0,
                 image: str | None = None):
        if output_cap > 8 * 1024 * 1024 or files_cap > 8 * 1024 * 1024:
            raise ValueError("output_cap and files_cap are limited to 8 MiB")
        self.memory_mb, self.pids, self.cpus = memory_mb, pids, cpus
        self.tmp_mb, self.work_mb, self.shm_mb = tmp_mb, work_mb, shm_mb
        self.timeout_s, self.output_cap, self.files_cap = timeout_s, output_cap, files_cap
        self.grace_s = grace_s
        self.pool_size = pool_size
        self.image = image or SANDBOX_IMAGE
        self._cond = threading.Condition()
        self._idle: list[_Box] = []
        self._live = 0
        self._closed = False
        self._hc = None
        _require_image(self.image)
        if pool_size:
            _live_pools.add(self)

    # -- configuration
    def _host_config(self):
        if self._hc is None:
            docker = _docker()
            self._hc = _engine().api.create_host_config(
                network_mode="none",
                read_only=True,
                tmpfs={
                    "/tmp": f"rw,nosuid,nodev,noexec,size={self.tmp_mb}m,mode=1777",
                    "/work": f"rw,nosuid,nodev,noexec,size={self.work_mb}m,"
                             "uid=65534,gid=65534,mode=0700",
                },
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                mem_limit=f"{self.memory_mb}m",
                memswap_limit=f"{self.memory_mb}m",
                pids_limit=self.pids,
                nano_cpus=int(self.cpus * 1e9),
                shm_size=f"{self.shm_mb}m",
                ipc_mode="private",
                ulimits=[docker.types.Ulimit(name="nofile", soft=1024, hard=1024),
                         docker.types.Ulimit(name="core", soft=0, hard=0)],
                log_config=docker.types.LogConfig(type="none"),
                privileged=False,
            )
        return self._hc

    # -- container lifecycle
    def _acquire(self) -> _Box:
        if not self.pool_size:
            return _Box(self, "once")
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("this Sandbox is closed")
                if self._idle:
                    return self._idle.pop()
                if self._live < self.pool_size:
                    self._live += 1
                    break
                self._cond.wait()
        try:
            return _Box(self, "serve")
        except BaseException:
            with self._cond:
                self._live -= 1
                self._cond.notify()
            raise

    def _release(self, box: _Box, reusable: bool) -> None:
        if self.pool_size:
            with self._cond:
                if reusable and not self._closed:
                    self._idle.append(box)
                    self._cond.notify()
                    return
        try:
            box.destroy()
        finally:
            if self.pool_size:
                with self._cond:
                    self._live -= 1
                    self._cond.notify()

    def warm(self) -> None:
        """Start every pool container now (a ping each) instead of on first use."""
        if not self.pool_size:
            return
        with ThreadPoolExecutor(self.pool_size) as ex:
            list(ex.map(lambda _: self._request({"op": "ping"}, 0.0), range(self.pool_size)))

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for box in idle:
            try:
                box.destroy()
            finally:
                with self._cond:
                    self._live -= 1
        _live_pools.discard(self)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- one request
    def _request(self, payload: dict, budget_s: float) -> tuple[dict | None, _Failure | None]:
        data = _frame(payload)
        if len(data) > _MAX_REQUEST:
            raise ValueError(f"request of {len(data)} bytes exceeds the {_MAX_REQUEST}-byte limit")
        for attempt in (1, 2):
            box = self._acquire()
            reused = box.uses > 0
            reusable = False
            try:
                deadline = time.monotonic() + budget_s + self.grace_s
                try:
                    response, status = box.request(data, deadline)
                except _Deadline:
                    return None, _Failure(
                        f"no answer within the host deadline ({budget_s + self.grace_s:.1f} s); "
                        "container killed and removed from the host", timed_out=True)
                except _Closed as exc:
                    if reused and box.conn.received == 0 and attempt == 1:
                        continue  # a warm container died while idle: retry on a fresh one
                    oom = box.oom_killed()
                    return None, _Failure(
                        f"the sandbox container ended before answering ({exc}"
                        f"{'; OOM-killed' if oom else ''}) {box.stderr_tail()}".strip(),
                        oom_killed=oom)
                except _ProtocolError as exc:
                    return None, _Failure(f"sandbox protocol error: {exc}", too_big=True)
                if response.get("type") == "error":  # never reuse a container after this
                    return None, _Failure("sandbox harness error: " + str(response.get("error")))
                reusable = status.get("clean") is True
                return response, None
            finally:
                self._release(box, reusable)
        raise AssertionError("unreachable")

    # -- public API
    def run(self, program: str, stdin: bytes = b"", files: dict[str, bytes] | None = None,
            argv: Iterable[str] = ()) -> SandboxResult:
        """Run ``python3 main.py *argv`` in /work with ``program`` as main.py, ``files``
        written beside it (relative names), ``stdin`` fed to it. Files the program leaves
        in /work/out come back in ``files`` (size-capped)."""
        for name in files or {}:
            parts = [p for p in str(name).replace("\\", "/").split("/") if p not in ("", ".")]
            if str(name).startswith("/") or not parts or ".." in parts or parts == ["main.py"]:
                raise ValueError(f"file name not allowed in the sandbox: {name!r}")
        payload = {
            "op": "run", "program": program, "stdin": _b64(stdin),
            "files": {str(k): _b64(v) for k, v in (files or {}).items()},
            "argv": [str(a) for a in argv],
            "timeout_s": self.timeout_s, "output_cap": self.output_cap,
            "files_cap": self.files_cap,
        }
        started = time.monotonic()
        response, failure = self._request(payload, self.timeout_s)
        if failure is not None:
            return SandboxResult(
                exit_code=None, stdout="", stderr="[sandbox] " + failure.message,
                timed_out=failure.timed_out, oom_killed=failure.oom_killed,
                output_truncated=failure.too_big,
                duration_s=time.monotonic() - started, files={})
        return SandboxResult(
            exit_code=response["exit_code"],
            stdout=base64.b64decode(response["stdout"]).decode("utf-8", "replace"),
            stderr=base64.b64decode(response["stderr"]).decode("utf-8", "replace"),
            timed_out=bool(response["timed_out"]),
            oom_killed=bool(response["oom_killed"]),
            output_truncated=bool(response["output_truncated"]),
            duration_s=float(response["duration_s"]),
            files={k: base64.b64decode(v) for k, v in response["files"].items()},
        )

    def judge(self, source: str, function_name: str, inputs: list,
              expected: list | None = None, *, per_input_timeout_s: float = 2.0,
              float_tol: float = 0.0) -> list[dict]:
        """See :func:`judge_function`."""
        inputs = list(inputs)
        if len(inputs) > _MAX_INPUTS:
            raise ValueError(f"at most {_MAX_INPUTS} inputs per verdict")
        if expected is not None and len(expected) != len(inputs):
            raise ValueError("expected must have one value per input")
        texts = []
        for args in inputs:
            if not isinstance(args, (list, tuple)):
                raise TypeError("each input is a list of positional arguments")
            texts.append(json.dumps(list(args), allow_nan=False))
        payload = {
            "op": "judge", "source": source, "function": function_name, "inputs": texts,
            "per_input_timeout_s": per_input_timeout_s, "timeout_s": self.timeout_s,
            "output_cap": self.output_cap,
        }
        response, failure = self._request(payload, self.timeout_s)
        results = []
        raw = (response or {}).get("results") or []
        for index in range(len(inputs)):
            entry = _judge_entry(index, raw[index] if index < len(raw) else None, failure)
            if expected is not None:
                entry["passed"] = entry["ok"] and outputs_match(
                    entry["output"], expected[index], float_tol=float_tol)
            results.append(entry)
        return results


def _reject_constant(name: str):
    raise ValueError(f"non-JSON constant {name}")


def _judge_entry(index: int, raw: dict | None, failure: _Failure | None) -> dict:
    entry = {"index": index, "ok": False, "output": None, "error": None,
             "timed_out": False, "oom_killed": False, "duration_s": 0.0, "log": ""}
    if raw is None or not isinstance(raw, dict):
        entry["error"] = failure.message if failure else "no result for this input"
        entry["timed_out"] = bool(failure and failure.timed_out)
        entry["oom_killed"] = bool(failure and failure.oom_killed)
        return entry
    entry["timed_out"] = bool(raw.get("timed_out"))
    entry["oom_killed"] = bool(raw.get("oom_killed"))
    entry["duration_s"] = float(raw.get("duration_s") or 0.0)
    try:
        entry["log"] = base64.b64decode(raw.get("log") or "").decode("utf-8", "replace")
        text = base64.b64decode(raw.get("result") or "").decode("utf-8")
    except (ValueError, TypeError):
        entry["error"] = "undecodable result"
        return entry
    if entry["timed_out"]:
        entry["error"] = "time limit exceeded" + (" (skipped)" if raw.get("skipped") else "")
        return entry
    if raw.get("too_big"):
        entry["error"] = "output too large"
        return entry
    if entry["oom_killed"]:
        entry["error"] = "out of memory"
        return entry
    if not text:
        entry["error"] = f"no return value (process exit status {raw.get('exit')})"
        return entry
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        entry["error"] = f"malformed result ({exc})"
        return entry
    if not isinstance(obj, dict) or obj.get("ok") not in (True, False):
        entry["error"] = "malformed result"
    elif obj["ok"] is True and "output" in obj:
        entry["ok"] = True
        entry["output"] = obj["output"]
    else:
        entry["error"] = str(obj.get("error"))[:2000]
    return entry


def outputs_match(output: Any, expected: Any, *, float_tol: float = 0.0) -> bool:
    """Host-side comparison of a returned JSON value with an expected value.

    ``expected`` is first normalised through JSON (tuples become lists). Booleans and
    None match only themselves, numbers match numbers by value (with ``float_tol`` as a
    relative/absolute tolerance when either is a float), strings, lists and dicts
    structurally."""
    try:
        expected = json.loads(json.dumps(expected, allow_nan=False))
    except (TypeError, ValueError):
        return False
    return _match(output, expected, float_tol)


def _match(a: Any, b: Any, tol: float) -> bool:
    if b is None or isinstance(b, bool):
        return a is b
    if isinstance(b, (int, float)):
        if isinstance(a, bool) or not isinstance(a, (int, float)):
            return False
        if isinstance(a, float) or isinstance(b, float):
            if not (math.isfinite(a) and math.isfinite(b)):
                return False
            return a == b or (tol > 0 and math.isclose(a, b, rel_tol=tol, abs_tol=tol))
        return a == b
    if isinstance(b, str):
        return isinstance(a, str) and a == b
    if isinstance(b, list):
        return (isinstance(a, list) and len(a) == len(b)
                and all(_match(x, y, tol) for x, y in zip(a, b)))
    if isinstance(b, dict):
        return (isinstance(a, dict) and a.keys() == b.keys()
                and all(_match(a[k], b[k], tol) for k in b))
    return False


# ---------------------------------------------------------------- module-level API
_live_pools: "set[Sandbox]" = set()
_default_lock = threading.Lock()
_default: Sandbox | None = None


def _default_sandbox() -> Sandbox:
    global _default
    with _default_lock:
        if _default is None or _default._closed:
            _default = Sandbox(pool_size=max(2, min(4, os.cpu_count() or 2)))
        return _default


@atexit.register
def _close_pools() -> None:
    for pool in list(_live_pools):
        try:
            pool.close()
        except Exception:
            pass


def judge_function(source: str, function_name: str, inputs: list,
                   expected: list | None = None, *, sandbox: Sandbox | None = None,
                   per_input_timeout_s: float = 2.0, float_tol: float = 0.0) -> list[dict]:
    """Call ``function_name`` from ``source`` on each input inside the sandbox.

    ``inputs``: one list of positional arguments per call (JSON values). Returns one dict
    per input: ``index``, ``ok`` (the function returned a JSON value), ``output``,
    ``error``, ``timed_out``, ``oom_killed``, ``duration_s``, ``log`` (capped
    stdout+stderr, for feedback only), and ``passed`` when ``expected`` is given: the
    host's comparison of ``output`` with ``expected[i]`` (:func:`outputs_match`). The
    expected values never leave the host. Uses a shared warm pool unless ``sandbox`` is
    given; the whole verdict is bounded by the sandbox's ``timeout_s``."""
    box = sandbox if sandbox is not None else _default_sandbox()
    return box.judge(source, function_name, inputs, expected,
                     per_input_timeout_s=per_input_timeout_s, float_tol=float_tol)


def sandbox_containers(owner_pid: int | None = None, mode: str | None = None) -> list[str]:
    """Ids of the sandbox containers on this engine, running or not: all of them, or those
    of one owner pid and/or one mode (``once``: fresh per run, ``serve``: pool)."""
    filters = {"label": [f"{LABEL}=1"]}
    if owner_pid is not None:
        filters["label"].append(f"{LABEL}.pid={owner_pid}")
    if mode is not None:
        filters["label"].append(f"{LABEL}.mode={mode}")
    return [c["Id"] for c in _engine().api.containers(all=True, filters=filters)]


def _owner_alive(labels: dict) -> bool:
    if labels.get(f"{LABEL}.host") != socket.gethostname():
        return True  # cannot tell from here: leave it
    try:
        os.kill(int(labels.get(f"{LABEL}.pid", "0")), 0)
        return True
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True


def sweep_orphans(max_age_s: float = 0, *, dead_owners_only: bool = False) -> int:
    """Force-remove sandbox containers older than ``max_age_s`` (all of them by default;
    with ``dead_owners_only``, only those whose owner process on this host is gone).
    Returns how many were removed."""
    api = _engine().api
    now = time.time()
    removed = 0
    for info in api.containers(all=True, filters={"label": f"{LABEL}=1"}):
        if now - float(info.get("Created", 0)) < max_age_s:
            continue
        if dead_owners_only and _owner_alive(info.get("Labels") or {}):
            continue
        try:
            api.remove_container(info["Id"], force=True)
            removed += 1
        except Exception:
            pass  # removed concurrently
    return removed


# ---------------------------------------------------------------- benchmark
_BENCH_SOURCE = """
def solve(xs, k):
    seen = {}
    for i, x in enumerate(xs):
        if k - x in seen:
            return [seen[k - x], i]
        seen[x] = i
    return None
"""


def _bench_case(rng_seed: int) -> tuple[list, Any]:
    xs = [(rng_seed * 7919 + i * 104729) % 1000 for i in range(60)]
    k = xs[3] + xs[41]
    seen, want = {}, None
    for i, x in enumerate(xs):
        if k - x in seen:
            want = [seen[k - x], i]
            break
        seen[x] = i
    return [xs, k], want


def bench_sandbox(n: int = 40, concurrency: int = 4, *, inputs_per_verdict: int = 5,
                  startup_runs: int = 5, fresh_n: int = 12) -> dict:
    """Measure sandbox throughput on this machine.

    * ``startup_s``: median wall time of a trivial run in a fresh container (create, start,
      run, remove);
    * ``verdicts_per_s``: ``n`` verdicts (a submission judged on ``inputs_per_verdict``
      hidden inputs, checked on the host) over a warm pool of ``concurrency`` containers,
      ``concurrency`` threads;
    * ``fresh_verdicts_per_s``: the same with a fresh container per verdict (``fresh_n``);
    * ``pooled_run_s``: median wall time of a trivial run on a warm pool container."""
    cases = [_bench_case(i) for i in range(inputs_per_verdict)]
    inputs = [c[0] for c in cases]
    expected = [c[1] for c in cases]

    def verdict(box: Sandbox) -> bool:
        res = box.judge(_BENCH_SOURCE, "solve", inputs, expected)
        return all(r["passed"] for r in res)

    with Sandbox() as fresh:
        fresh.run("pass")
        times = []
        for _ in range(startup_runs):
            t0 = time.perf_counter()
            result = fresh.run("pass")
            times.append(time.perf_counter() - t0)
            assert result.exit_code == 0, result
        t0 = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as ex:
            fresh_ok = list(ex.map(lambda _: verdict(fresh), range(fresh_n)))
        fresh_rate = fresh_n / (time.perf_counter() - t0)
    with Sandbox(pool_size=concurrency) as pool:
        pool.warm()
        pooled = []
        for _ in range(startup_runs):
            t0 = time.perf_counter()
            pool.run("pass")
            pooled.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as ex:
            ok = list(ex.map(lambda _: verdict(pool), range(n)))
        elapsed = time.perf_counter() - t0
    if not all(ok) or not all(fresh_ok):
        raise RuntimeError("the benchmark's correct submission was not accepted")
    return {
        "verdicts_per_s": round(n / elapsed, 2),
        "startup_s": round(statistics.median(times), 3),
        "pooled_run_s": round(statistics.median(pooled), 4),
        "fresh_verdicts_per_s": round(fresh_rate, 2),
        "n": n, "concurrency": concurrency, "inputs_per_verdict": inputs_per_verdict,
        "cpus": os.cpu_count(), "image": SANDBOX_IMAGE,
    }


if __name__ == "__main__":  # used by scripts/setup-sandbox.sh with a bare python3
    import sys

    if sys.argv[1:] == ["--image-tag"]:
        print(image_tag())
    elif sys.argv[1:] == ["--bench"]:
        print(json.dumps(bench_sandbox(), indent=2))
    elif sys.argv[1:] == ["--sweep"]:
        print(sweep_orphans())
    else:
        sys.exit("usage: python3 verifiers/sandbox.py --image-tag | --bench | --sweep")
