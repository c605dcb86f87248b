#!/usr/bin/env python3
"""synthgym sandbox harness: the verifier-owned program inside the sandbox container.

Baked into the sandbox image at /opt/synthgym/harness.py and started as the container's
PID 1 by ``synthgym.verifiers.sandbox`` (standard library only; it runs as uid 65534 with
no capabilities, like the untrusted code it supervises).

Processes
---------
* **supervisor** (PID 1, this file's ``main``). Marks itself non-dumpable, so processes of
  the same uid can neither ptrace it nor open ``/proc/1/{mem,fd}``; as the namespace's init
  it ignores every signal it has no handler for, so untrusted code cannot kill it. It never
  reads a request: for each one it forks a **worker** from its pristine state, relays the
  worker's response (a size-checked frame) to the host, then resets the container (kills
  every other process, empties every writable place, removes SysV IPC objects) and reports
  whether the reset verified clean. In ``once`` mode it exits after one request.
* **worker** (forked, also non-dumpable). Reads exactly one request frame from the
  container's stdin, detaches from stdin/stdout, and runs the request:
  - ``run``: writes the files and the program into /work, execs ``python3 main.py`` with
    pipes for stdin/stdout/stderr, caps the output while reading it, enforces the
    wall-clock timeout, kills every leftover process, collects /work/out.
  - ``judge``: for each input, forks a fresh child that compiles the submitted source,
    calls the named function on that input only, and writes the JSON of the return value
    to a private pipe. The worker reports those bytes (capped) per input; it never decides
    whether an output is right. Between inputs it kills every leftover process and empties
    /tmp and /work, so one input's crash, hang or litter cannot affect the next one.

Framing (both directions): ``b"SGX1"`` + 4-byte big-endian length + UTF-8 JSON.
"""

import base64
import ctypes
import json
import os
import resource
import select
import signal
import stat
import struct
import sys
import time
import traceback
import builtins

# Preloaded so that each forked child finds them imported: a submitted program's `import decimal`
# otherwise costs milliseconds per hidden input. Children are forked from this pristine state, so
# whatever one child does to a module's state, no other child sees.
import collections  # noqa: F401
import csv  # noqa: F401
import datetime  # noqa: F401
import decimal  # noqa: F401
import functools  # noqa: F401
import itertools  # noqa: F401
import math  # noqa: F401
import re  # noqa: F401
import statistics  # noqa: F401

MAGIC = b"SGX1"
HDR = struct.Struct(">4sI")
MAX_REQUEST = 64 * 1024 * 1024
MAX_RESPONSE = 32 * 1024 * 1024
WORK = "/work"
OUT = "/work/out"
WIPE_DIRS = ("/tmp", "/work", "/dev/shm", "/dev/mqueue")
PYTHON = "/usr/bin/python3"
CHILD_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
}
EXIT_EOF = 3
MAX_FD = 4096
LOG_CAP = 4096
MAX_OUT_FILES = 200

_libc = ctypes.CDLL(None, use_errno=True)


# ---------------------------------------------------------------- small helpers
def _nondumpable():
    _libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_exact(fd, n):
    parts, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            if got == 0:
                return b""
            raise EOFError("stdin closed in the middle of a frame")
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _frame(obj):
    payload = json.dumps(obj, separators=(",", ":")).encode()
    return HDR.pack(MAGIC, len(payload)) + payload


def _b64(data):
    return base64.b64encode(bytes(data)).decode("ascii")


def _pids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _is_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as fh:
            data = fh.read()
        return data[data.rindex(b")") + 2:data.rindex(b")") + 3] == b"Z"
    except (OSError, ValueError):
        return True  # gone


def _kill_others(budget_s=5.0):
    """SIGKILL every process of the container except PID 1 and the caller; verify."""
    me = os.getpid()
    end = time.monotonic() + budget_s
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _reap_nohang()
        live = [p for p in _pids() if p not in (1, me) and not _is_zombie(p)]
        if not live:
            return True
        if time.monotonic() > end:
            return False
        time.sleep(0.002)


def _reap_nohang():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _remove_tree(top):
    """Remove ``top`` (file or directory) without following symlinks, fixing modes first."""
    stack = [(top, False)]
    while stack:
        path, visited = stack.pop()
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        if not stat.S_ISDIR(st.st_mode):
            os.unlink(path)
            continue
        if visited:
            os.rmdir(path)
            continue
        if stat.S_IMODE(st.st_mode) & 0o700 != 0o700:
            os.chmod(path, 0o700)
        stack.append((path, True))
        for name in os.listdir(path):
            stack.append((os.path.join(path, name), False))


def _wipe(dirs=WIPE_DIRS):
    for top in dirs:
        try:
            names = os.listdir(top)
        except OSError:
            continue
        for name in names:
            try:
                _remove_tree(os.path.join(top, name))
            except OSError:
                pass  # reported by _verify_clean


def _sysv_ids():
    found = []
    for kind in ("shm", "msg", "sem"):
        try:
            with open("/proc/sysvipc/" + kind) as fh:
                lines = fh.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 1:
                found.append((kind, int(fields[1])))
    return found


def _remove_sysv():
    for kind, ident in _sysv_ids():
        if kind == "shm":
            _libc.shmctl(ident, 0, None)  # IPC_RMID = 0
        elif kind == "msg":
            _libc.msgctl(ident, 0, None)
        else:
            _libc.semctl(ident, 0, 0)


def _verify_clean():
    problems = []
    others = [p for p in _pids() if p != 1]
    if others:
        problems.append("processes left: %s" % others[:10])
    for top in WIPE_DIRS:
        try:
            left = os.listdir(top)
        except OSError as exc:
            if top in ("/tmp", "/work"):
                problems.append("%s unreadable: %s" % (top, exc))
            continue
        if left:
            problems.append("%s not empty: %s" % (top, left[:10]))
    if _sysv_ids():
        problems.append("SysV IPC objects left: %s" % _sysv_ids()[:10])
    return problems


def _oom_kills():
    for path in ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"):
        try:
            with open(path) as fh:
                for line in fh:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            continue
    return 0


def _child_common():
    """First steps in every forked child that will run untrusted code."""
    os.setsid()
    try:
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")  # the OOM killer takes untrusted code before the harness
    except OSError:
        pass


def _set_nonblock(fd):
    os.set_blocking(fd, False)


def _pidfd(pid):
    """A pollable fd that becomes readable when ``pid`` exits, or None (then: 20 ms ticks)."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


# ---------------------------------------------------------------- supervisor
def main(argv):
    mode = argv[1] if len(argv) > 1 else "once"
    if mode not in ("once", "serve"):
        sys.stderr.write("usage: harness.py once|serve\n")
        return 2
    _nondumpable()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.umask(0o077)
    import mmap

    buf = mmap.mmap(-1, MAX_RESPONSE + HDR.size)
    poller = select.poll()
    poller.register(0, select.POLLIN | select.POLLHUP)
    while True:
        if mode == "serve":
            poller.poll()  # wait for a request (or for the host to hang up)
        resp_r, resp_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # worker
            code = 1
            try:
                os.close(resp_r)
                code = _worker(resp_w)
            except BaseException:
                try:
                    traceback.print_exc()
                    sys.stderr.flush()
                except BaseException:
                    pass
            os._exit(code)
        os.close(resp_w)
        size, overflow, status = _relay(resp_r, pid, buf)
        os.close(resp_r)
        worker_code = os.waitstatus_to_exitcode(status)
        if worker_code == EXIT_EOF and size == 0:
            return 0
        magic, length = HDR.unpack(buf[:HDR.size]) if size >= HDR.size else (b"", -1)
        if not overflow and magic == MAGIC and length == size - HDR.size:
            _write_all(1, buf[:HDR.size])
            _write_all(1, memoryview(buf)[HDR.size:size])
        else:
            _write_all(1, _frame({"type": "error", "error":
                                  "harness worker ended without a complete response "
                                  "(exit status %s)" % worker_code}))
        buf[:size] = bytes(size)  # nothing of this request stays in the supervisor
        if mode == "once":
            _write_all(1, _frame({"type": "status", "clean": None, "problems": []}))
            return 0
        _kill_others()
        _reap_nohang()
        _wipe()
        _remove_sysv()
        problems = _verify_clean()
        _write_all(1, _frame({"type": "status", "clean": not problems, "problems": problems}))


def _relay(fd, worker, buf):
    """Read the worker's response into ``buf`` while reaping every child; return when
    the pipe is closed and the worker has been reaped."""
    size, overflow, status = 0, False, None
    capacity = len(buf)
    view = memoryview(buf)
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    eof = False
    while not eof or status is None:
        if not eof:
            if poller.poll(50):
                if size < capacity:
                    got = os.readv(fd, [view[size:]])
                    size += got
                else:
                    got = len(os.read(fd, 65536))
                    overflow = overflow or got > 0
                if got == 0:
                    eof = True
        while True:
            try:
                pid, st = os.waitpid(-1, os.WNOHANG if not eof or status is not None else 0)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid == worker:
                status = st
                break
        if status is not None and not eof:
            _kill_others(1.0)  # whatever still holds the pipe outlived the worker
    view.release()
    return size, overflow, status


# ---------------------------------------------------------------- worker
def _worker(resp_fd):
    _nondumpable()
    head = _read_exact(0, HDR.size)
    if not head:
        return EXIT_EOF
    magic, length = HDR.unpack(head)
    if magic != MAGIC or length > MAX_REQUEST:
        raise ValueError("bad request frame")
    request = json.loads(_read_exact(0, length))
    devnull = os.open("/dev/null", os.O_RDWR)
    os.dup2(devnull, 0)  # untrusted code must never reach the container's stdin ...
    os.dup2(devnull, 1)  # ... or stdout (the channel to the host)
    os.close(devnull)
    try:
        op = request.get("op")
        if op == "run":
            response = _op_run(request)
        elif op == "judge":
            response = _op_judge(request)
        elif op == "ping":
            response = {"type": "response", "op": "ping"}
        else:
            response = {"type": "error", "error": "unknown op %r" % (op,)}
    except Exception as exc:  # a harness bug or a malformed request
        response = {"type": "error", "error": "%s: %s" % (type(exc).__name__, exc),
                    "traceback": traceback.format_exc()[-4000:]}
    _kill_others()
    payload = json.dumps(response, separators=(",", ":")).encode()
    if len(payload) > MAX_RESPONSE:
        payload = json.dumps({"type": "error", "error": "response too large"}).encode()
    _write_all(resp_fd, HDR.pack(MAGIC, len(payload)) + payload)
    return 0


def _safe_relpath(name):
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts) or name.startswith("/"):
        raise ValueError("file name not allowed: %r" % (name,))
    return os.path.join(*parts)


def _prepare_work(files, program):
    for name, data in files.items():
        rel = _safe_relpath(name)
        if rel == "main.py":
            raise ValueError("files may not replace main.py (the program)")
        path = os.path.join(WORK, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(base64.b64decode(data))
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(WORK, "main.py"), "w", encoding="utf-8") as fh:
        fh.write(program)


def _collect_files(cap):
    files, total, truncated, count = {}, 0, False, 0
    stack = [OUT]
    while stack:
        top = stack.pop()
        try:
            names = sorted(os.listdir(top))
        except OSError:
            continue
        for name in names:
            path = os.path.join(top, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                stack.append(path)
                continue
            if not stat.S_ISREG(st.st_mode):
                continue  # symlinks, fifos, sockets: never followed
            count += 1
            if count > MAX_OUT_FILES or total + st.st_size > cap:
                truncated = True
                continue
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
                try:
                    data = os.read(fd, cap - total + 1)
                finally:
                    os.close(fd)
            except OSError:
                continue
            if total + len(data) > cap:
                truncated = True
                continue
            total += len(data)
            files[os.path.relpath(path, OUT)] = _b64(data)
    return files, truncated


def _op_run(req):
    timeout = float(req["timeout_s"])
    cap = int(req["output_cap"])
    _prepare_work(req.get("files") or {}, req["program"])
    argv = [str(a) for a in req.get("argv") or []]
    stdin_data = base64.b64decode(req.get("stdin") or "")
    oom_before = _oom_kills()
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            _child_common()
            os.dup2(in_r, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            os.closerange(3, MAX_FD)
            os.chdir(WORK)
            os.execve(PYTHON, [PYTHON, "-B", "main.py"] + argv, CHILD_ENV)
        except BaseException:
            pass
        os._exit(127)
    for fd in (in_r, out_w, err_w):
        os.close(fd)
    for fd in (in_w, out_r, err_r):
        _set_nonblock(fd)
    captured = {out_r: bytearray(), err_r: bytearray()}
    total = 0
    truncated = timed_out = False
    status = None
    poller = select.poll()
    poller.register(out_r, select.POLLIN | select.POLLHUP)
    poller.register(err_r, select.POLLIN | select.POLLHUP)
    open_readers = {out_r, err_r}
    pending = memoryview(stdin_data)
    if pending:
        poller.register(in_w, select.POLLOUT | select.POLLERR)
    else:
        os.close(in_w)
        in_w = -1
    deadline = start + timeout
    pidfd = _pidfd(pid)
    tick = 20
    if pidfd is not None:
        poller.register(pidfd, select.POLLIN)
        tick = 1000

    def take(fd):
        nonlocal total, truncated
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return True
        if not data:
            return False
        room = cap - total
        if len(data) > room:
            data = data[:max(room, 0)]
            truncated = True
        captured[fd] += data
        total += len(data)
        return True

    while not truncated:
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
        if status is not None:
            break  # leftovers are killed below; what they buffered is drained
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        for fd, _ in poller.poll(max(1, min(int(remaining * 1000), tick))):
            if fd == pidfd:
                continue  # reaped at the top of the loop
            if fd == in_w:
                try:
                    written = os.write(in_w, pending[:65536])
                    pending = pending[written:]
                except BlockingIOError:
                    continue
                except OSError:  # the program closed its stdin
                    pending = pending[:0]
                if not pending:
                    poller.unregister(in_w)
                    os.close(in_w)
                    in_w = -1
            elif fd in open_readers and not take(fd):
                poller.unregister(fd)
                open_readers.discard(fd)
    killed = status is None
    if status is None:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    _kill_others()
    for fd in list(open_readers):
        while not truncated and take(fd):
            pass
    for fd in (in_w, out_r, err_r, -1 if pidfd is None else pidfd):
        if fd >= 0:
            os.close(fd)
    duration = time.monotonic() - start
    oom = _oom_kills() > oom_before
    code = None if killed else os.waitstatus_to_exitcode(status)
    files, files_truncated = _collect_files(int(req["files_cap"]))
    return {
        "type": "response", "op": "run",
        "exit_code": code, "timed_out": timed_out, "oom_killed": oom,
        "output_truncated": truncated or files_truncated,
        "duration_s": duration,
        "stdout": _b64(captured[out_r]), "stderr": _b64(captured[err_r]),
        "files": files,
    }


def _judge_child(source, function_name, args_text, res_w, log_w):
    try:
        _child_common()
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log_w, 1)
        os.dup2(log_w, 2)
        os.dup2(res_w, 3)
        os.closerange(4, MAX_FD)
        os.chdir(WORK)
    except BaseException:
        os._exit(126)
    try:
        args = json.loads(args_text)
        namespace = {"__name__": "__submission__", "__builtins__": builtins}
        exec(compile(source, "<submission>", "exec"), namespace)
        function = namespace.get(function_name)
        if not callable(function):
            raise NameError("the submission defines no function %r" % (function_name,))
        value = function(*args)
        payload = json.dumps({"ok": True, "output": value}, allow_nan=False)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt included
        try:
            message = "%s: %s" % (type(exc).__name__, exc)
        except BaseException:
            message = "unprintable exception"
        try:
            payload = json.dumps({"ok": False, "error": str(message)[:2000]})
        except BaseException:
            payload = '{"ok": false, "error": "unprintable exception"}'
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    try:
        _write_all(3, payload.encode("utf-8", "replace"))
    except BaseException:
        pass
    os._exit(0)


def _judge_one(source, function_name, args_text, timeout, cap):
    oom_before = _oom_kills()
    res_r, res_w = os.pipe()
    log_r, log_w = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(res_r)
        os.close(log_r)
        _judge_child(source, function_name, args_text, res_w, log_w)
        os._exit(125)
    os.close(res_w)
    os.close(log_w)
    _set_nonblock(res_r)
    _set_nonblock(log_r)
    result, log = bytearray(), bytearray()
    too_big = timed_out = False
    status = None
    poller = select.poll()
    poller.register(res_r, select.POLLIN | select.POLLHUP)
    poller.register(log_r, select.POLLIN | select.POLLHUP)
    open_readers = {res_r, log_r}
    deadline = start + timeout

    def take(fd):
        nonlocal too_big
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return True
        if not data:
            return False
        if fd == res_r:
            if len(result) + len(data) > cap:
                too_big = True
                return False
            result.extend(data)
        elif len(log) < LOG_CAP:
            log.extend(data[:LOG_CAP - len(log)])
        return True

    pidfd = _pidfd(pid)
    if pidfd is not None:
        poller.register(pidfd, select.POLLIN)
    grace_end = None
    while not too_big:
        now = time.monotonic()
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
                grace_end = now + 0.05  # descendants still holding the pipe get a moment
                if pidfd is not None:
                    poller.unregister(pidfd)
        if status is not None and (res_r not in open_readers or now >= grace_end):
            break
        remaining = deadline - now
        if remaining <= 0:
            timed_out = True
            break
        if status is not None:
            remaining = min(remaining, grace_end - now)
        elif pidfd is None:
            remaining = min(remaining, 0.02)
        for fd, _ in poller.poll(max(1, int(remaining * 1000))):
            if fd in open_readers and not take(fd):
                poller.unregister(fd)
                open_readers.discard(fd)
    if status is None:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    _kill_others()
    for fd in list(open_readers):
        while not too_big and take(fd):
            pass
    for fd in (res_r, log_r, -1 if pidfd is None else pidfd):
        if fd >= 0:
            os.close(fd)
    entry = {
        "result": "" if (too_big or timed_out) else _b64(result),
        "log": _b64(log),
        "timed_out": timed_out,
        "too_big": too_big,
        "oom_killed": _oom_kills() > oom_before,
        "exit": os.waitstatus_to_exitcode(status),
        "duration_s": time.monotonic() - start,
    }
    return entry


def _op_judge(req):
    source = req["source"]
    function_name = req["function"]
    inputs = req["inputs"]
    per_input = float(req["per_input_timeout_s"])
    cap = int(req["output_cap"])
    deadline = time.monotonic() + float(req["timeout_s"])
    results = []
    for args_text in inputs:
        remaining = deadline - time.monotonic()
        if remaining <= 0.05:
            results.append({"result": "", "log": "", "timed_out": True, "too_big": False,
                            "oom_killed": False, "exit": None, "duration_s": 0.0,
                            "skipped": True})
            continue
        results.append(_judge_one(source, function_name, args_text,
                                  min(per_input, remaining), cap))
        _wipe(("/tmp", "/work", "/dev/shm", "/dev/mqueue"))
    return {"type": "response", "op": "judge", "results": results}


if __name__ == "__main__":
    sys.exit(main(sys.argv))
