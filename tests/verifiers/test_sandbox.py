"""Attack suite for the Docker sandbox, against the real engine (no mocks).

Needs `bash scripts/setup-sandbox.sh` first (make test runs it). Without an engine or the
image every test FAILS with the SandboxUnavailable message: a missing sandbox must never
look like a green suite. Each attack asserts that the run ended within its limit (generous
bounds, no tight timing) and that the host is unaffected (no container left behind, the
harness still serves, host files and listeners untouched).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from synthgym.verifiers import sandbox as sb

TIMEOUT = 3.0  # the attack sandboxes' wall-clock limit
SLACK = 15.0  # generous bound on top of a limit, for a loaded 2-core machine
ME = os.getpid()


def _sandbox(**kwargs) -> sb.Sandbox:
    try:
        return sb.Sandbox(**kwargs)
    except sb.SandboxUnavailable as exc:
        pytest.fail(f"sandbox unavailable: {exc}", pytrace=False)


@pytest.fixture(scope="module")
def box():
    """Fresh container per run, 3 s limit."""
    others = set(sb.sandbox_containers(owner_pid=ME, mode="once"))  # e.g. a code family's, in this process
    sandbox = _sandbox(timeout_s=TIMEOUT)
    yield sandbox
    sandbox.close()
    assert set(sb.sandbox_containers(owner_pid=ME, mode="once")) <= others


@pytest.fixture(scope="module")
def pool():
    """One warm container, so consecutive runs provably share it."""
    others = set(sb.sandbox_containers(owner_pid=ME, mode="serve"))  # e.g. a code family's pool, in this process
    sandbox = _sandbox(timeout_s=TIMEOUT, pool_size=1)
    yield sandbox
    sandbox.close()
    assert set(sb.sandbox_containers(owner_pid=ME, mode="serve")) <= others


def timed(fn, *args, **kwargs):
    started = time.monotonic()
    result = fn(*args, **kwargs)
    return result, time.monotonic() - started


def assert_host_clean():
    assert sb.sandbox_containers(owner_pid=ME, mode="once") == [], "a fresh container leaked"


def assert_still_serves(sandbox):
    result = sandbox.run("print('alive')")
    assert result.exit_code == 0 and result.stdout == "alive\n", result


# ---------------------------------------------------------------- basics
def test_missing_image_fails_loudly_without_pulling():
    _sandbox().close()  # the real engine and image are there (else: fail with how to get them)
    started = time.monotonic()
    with pytest.raises(sb.SandboxUnavailable) as info:
        sb.Sandbox(image="synthgym-sandbox:does-not-exist")
    assert sb.SETUP_HINT in str(info.value)
    assert time.monotonic() - started < 10  # no registry pull attempted


def test_defaults_and_image_tag():
    s = _sandbox()
    assert sb.engine_available() and sb.image_available()
    assert sb.SANDBOX_IMAGE == sb.image_tag()
    assert sb.SANDBOX_IMAGE.startswith("synthgym-sandbox:")
    assert (s.memory_mb, s.pids, s.cpus, s.tmp_mb, s.timeout_s, s.output_cap) == (
        256, 64, 1.0, 64, 10.0, 64 * 1024)
    s.close()


def test_program_io_files_and_argv(box):
    program = textwrap.dedent("""
        import os, sys
        data = sys.stdin.read()
        print("argv", sys.argv[1:], "stdin", data, "in", open("data/in.txt").read())
        print("err", file=sys.stderr)
        os.makedirs("out/sub", exist_ok=True)
        open("out/sub/result.bin", "wb").write(bytes(range(5)))
        sys.exit(3)
    """)
    result, took = timed(box.run, program, stdin=b"hello", files={"data/in.txt": b"IN"},
                         argv=["a", "b"])
    assert result.exit_code == 3, result
    assert result.stdout == "argv ['a', 'b'] stdin hello in IN\n"
    assert result.stderr == "err\n"
    assert result.files == {"sub/result.bin": bytes(range(5))}
    assert not (result.timed_out or result.oom_killed or result.output_truncated)
    assert took < TIMEOUT + SLACK
    assert_host_clean()


# ---------------------------------------------------------------- resource attacks
def test_infinite_loop_is_killed_at_the_deadline(box):
    result, took = timed(box.run, "while True:\n    pass\n")
    assert result.timed_out and result.exit_code is None
    assert TIMEOUT - 0.5 <= result.duration_s < TIMEOUT + SLACK
    assert took < TIMEOUT + SLACK
    assert_host_clean()


def test_fork_bomb_hits_the_pids_limit_and_ends(box):
    counting = textwrap.dedent("""
        import os, time
        n = 0
        while True:
            try:
                pid = os.fork()
            except OSError as exc:
                print("fork refused after", n, exc.errno, flush=True)
                break
            if pid == 0:
                time.sleep(60)
                os._exit(0)
            n += 1
        time.sleep(60)
    """)
    result, took = timed(box.run, counting)
    assert result.timed_out, result
    words = result.stdout.split()
    assert words[:3] == ["fork", "refused", "after"] and int(words[3]) < 64, result.stdout
    assert took < TIMEOUT + SLACK

    brutal = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    result, took = timed(box.run, brutal)
    assert result.timed_out and took < TIMEOUT + SLACK
    assert_host_clean()
    assert_still_serves(box)


def test_memory_bomb_is_oom_killed(box):
    program = "chunks = []\nwhile True:\n    chunks.append(bytearray(16 * 1024 * 1024))\n"
    result, took = timed(box.run, program)
    assert result.oom_killed, result
    assert result.exit_code == -signal.SIGKILL
    assert took < TIMEOUT + SLACK
    assert_host_clean()


def test_endless_stdout_is_capped(box):
    for stream in ("sys.stdout", "sys.stderr"):
        program = f"import sys\nwhile True:\n    {stream}.write('y' * 4096)\n"
        result, took = timed(box.run, program)
        assert result.output_truncated, result.stderr[:200]
        assert len(result.stdout) + len(result.stderr) <= box.output_cap
        assert len(result.stdout) + len(result.stderr) > 0
        assert result.exit_code is None and took < TIMEOUT + SLACK
    assert_host_clean()


def test_disk_fill_tmp_full_and_root_read_only(box):
    free_before = shutil.disk_usage("/var/lib/docker" if os.path.isdir("/var/lib/docker")
                                    else "/").free
    program = textwrap.dedent("""
        import errno, os
        def fill(path):
            n = 0
            try:
                with open(path, "wb") as fh:
                    while n < 1024:
                        fh.write(b"x" * (1 << 20)); fh.flush(); n += 1
            except OSError as exc:
                return n, exc.errno
            return n, 0
        print("tmp", *fill("/tmp/fill"))
        print("work", *fill("/work/fill"))
        for path in ("/var/tmp/evil", "/evil", "/etc/evil", "/usr/lib/evil", "/opt/synthgym/harness.py"):
            try:
                open(path, "ab").close()
                print("wrote", path)
            except OSError as exc:
                print("refused", path, exc.errno)
    """)
    result, took = timed(box.run, program)
    lines = dict((line.split(" ", 1)[0] + " " + line.split(" ")[1], line)
                 for line in result.stdout.splitlines())
    tmp = result.stdout.splitlines()[0].split()
    work = result.stdout.splitlines()[1].split()
    assert tmp[0] == "tmp" and int(tmp[2]) == 28 and int(tmp[1]) <= 64, result.stdout  # ENOSPC
    assert work[0] == "work" and int(work[2]) == 28 and int(work[1]) <= 64, result.stdout
    assert "wrote" not in result.stdout, result.stdout
    assert lines["refused /var/tmp/evil"].endswith(" 30")  # EROFS: world-writable dir, ro root
    assert took < TIMEOUT + SLACK
    free_after = shutil.disk_usage("/var/lib/docker" if os.path.isdir("/var/lib/docker")
                                   else "/").free
    assert free_before - free_after < 100 * 1024 * 1024  # nothing landed on the host's disk
    assert_host_clean()


def test_blocking_on_stdin_ends_in_time(box, pool):
    program = textwrap.dedent("""
        import os, sys
        print("read", repr(sys.stdin.read()), flush=True)
        while True:
            os.read(0, 1)   # EOF forever, or blocks: either way the limit ends it
    """)
    result, took = timed(box.run, program, stdin=b"some input")
    assert result.stdout.startswith("read 'some input'")
    assert took < TIMEOUT + SLACK
    result, took = timed(box.run, "input()\ninput()\n")
    assert result.exit_code == 1 and "EOFError" in result.stderr
    assert took < TIMEOUT + SLACK
    # A judged function waiting for input fails that input, in time.
    verdict, took = timed(sb.judge_function, "def f(x):\n    return input()\n", "f",
                          [[1]], ["1"], sandbox=pool)
    assert verdict[0]["passed"] is False and took < TIMEOUT + SLACK
    assert_host_clean()


# ---------------------------------------------------------------- isolation
def test_nothing_persists_between_runs_of_a_warm_container(pool):
    plant = textwrap.dedent("""
        import ctypes, os, time
        for path in ("/tmp/persist", "/work/persist", "/dev/shm/persist"):
            open(path, "w").write("left behind")
        os.makedirs("/tmp/deep/a/b", exist_ok=True); os.chmod("/tmp/deep", 0)
        try:
            os.close(os.open("/dev/mqueue/persist", os.O_CREAT | os.O_RDWR, 0o600))
        except OSError as exc:
            print("mqueue", exc)
        libc = ctypes.CDLL(None)
        print("shm", libc.shmget(0x5eed, 4096, 0o1666))   # IPC_CREAT | 0666
        if os.fork() == 0:          # a daemon that tries to outlive the run
            os.setsid()
            if os.fork() == 0:
                time.sleep(600)
            os._exit(0)
        print(open("/proc/self/cgroup").read().splitlines()[0])
    """)
    check = textwrap.dedent("""
        import os
        print(open("/proc/self/cgroup").read().splitlines()[0])
        left = [p for p in ("/tmp/persist", "/work/persist", "/dev/shm/persist", "/tmp/deep",
                            "/dev/mqueue/persist") if os.path.exists(p)]
        pids = [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, os.getpid(), os.getppid())]
        shm = open("/proc/sysvipc/shm").read().splitlines()[1:]
        print("left", left, "pids", pids, "shm", shm)
        try:
            open("/proc/1/fd/0", "rb")
            print("stole the request channel")
        except OSError as exc:
            print("channel closed", exc.errno)
    """)
    first, took1 = timed(pool.run, plant)
    second, took2 = timed(pool.run, check)
    assert first.exit_code == 0, first
    assert "shm -1" not in first.stdout
    cgroup_1 = first.stdout.splitlines()[-1]
    cgroup_2 = second.stdout.splitlines()[0]
    assert cgroup_1 == cgroup_2, "the pool did not reuse its container"
    assert "left [] pids [] shm []" in second.stdout, second.stdout
    assert "channel closed" in second.stdout
    assert took1 < TIMEOUT + SLACK and took2 < TIMEOUT + SLACK


POOL_ATTACKS = {
    "fork bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
    "memory bomb": "c = []\nwhile True:\n    c.append(bytearray(16 << 20))\n",
    "endless stdout": "import sys\nwhile True:\n    sys.stdout.write('y' * 4096)\n",
    "fill tmp and shm": "open('/tmp/f', 'wb').write(b'x' * (60 << 20))\n"
                        "open('/dev/shm/f', 'wb').write(b'x' * (15 << 20))\n",
    "kill the harness worker": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n",
    "freeze the harness worker": "import os, signal, time\nos.kill(os.getppid(), signal.SIGSTOP)\n"
                                 "time.sleep(60)\n",
}


def test_warm_container_is_clean_after_every_attack(pool):
    """After each attack the pool's next run finds only itself; a container whose harness
    was disturbed is replaced (the host deadline ends a frozen one)."""
    probe = textwrap.dedent("""
        import os
        others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, os.getpid(), os.getppid())]
        print("tmp", os.listdir("/tmp"), "shm", os.listdir("/dev/shm"), "work", os.listdir("/work"), "others", others)
    """)
    for name, program in POOL_ATTACKS.items():
        result, took = timed(pool.run, program)
        assert took < TIMEOUT + pool.grace_s + SLACK, name
        after = pool.run(probe)
        assert after.exit_code == 0, (name, after)
        assert after.stdout == "tmp [] shm [] work ['main.py', 'out'] others []\n", (name, after.stdout)
    assert_still_serves(pool)


def test_nothing_persists_between_fresh_containers(box):
    first = box.run("open('/tmp/persist', 'w').write('x'); open('/work/persist', 'w').write('x')")
    second = box.run("import os; print(os.path.exists('/tmp/persist'), os.path.exists('/work/persist'))")
    assert first.exit_code == 0 and second.stdout == "False False\n"
    assert_host_clean()


def _host_addresses() -> list[str]:
    addresses = set()
    try:
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.connect(("192.0.2.1", 9))  # UDP connect: a route lookup, no packet is sent
        addresses.add(probe.getsockname()[0])
        probe.close()
    except OSError:
        pass
    try:
        with open("/proc/net/route") as fh:
            for line in fh.read().splitlines()[1:]:
                fields = line.split()
                if fields[1] == "00000000" and fields[2] != "00000000":
                    gateway = int(fields[2], 16)
                    addresses.add(socket.inet_ntoa(gateway.to_bytes(4, "little")))
    except OSError:
        pass
    return sorted(a for a in addresses if not a.startswith("127."))


def test_network_is_unreachable(box):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    # Every probe is a UDP connect (a route lookup that sends nothing even when a route
    # exists) or a TCP connect to loopback: no packet can leave this machine.
    targets = ["192.0.2.1", "198.51.100.7", "8.8.8.8"] + _host_addresses()
    program = textwrap.dedent(f"""
        import os, socket
        print("ifaces", sorted(os.listdir("/sys/class/net")))
        print("routes", len(open("/proc/net/route").read().splitlines()) - 1)
        for ip in {targets!r}:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.connect((ip, 53))
                print("ROUTE", ip)
            except OSError as exc:
                print("unreachable", ip, exc.errno)
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=1)
            print("CONNECTED to the host's loopback")
        except OSError as exc:
            print("host loopback refused", exc.errno)
        try:
            print("DNS", socket.getaddrinfo("pypi.org", 443))
        except OSError as exc:
            print("dns failed", type(exc).__name__)
    """)
    result, took = timed(box.run, program)
    out = result.stdout
    assert "ifaces ['lo']" in out and "routes 0" in out, out
    assert "ROUTE" not in out and "CONNECTED" not in out and "DNS" not in out, out
    for ip in targets:
        assert f"unreachable {ip} 101" in out, out  # ENETUNREACH
    assert "dns failed" in out
    with pytest.raises(socket.timeout):
        listener.accept()  # nothing reached the host's listener
    listener.close()
    assert took < TIMEOUT + SLACK
    assert_host_clean()


def test_privileges_are_dropped(box, tmp_path):
    marker = tmp_path / f"host-marker-{uuid.uuid4().hex}"
    marker.write_text("host only")
    program = textwrap.dedent(f"""
        import os, signal, subprocess
        status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
        print("uid", os.getuid(), os.geteuid(), os.getgid(), os.getegid())
        for key in ("CapEff", "CapPrm", "CapInh", "CapAmb", "NoNewPrivs"):
            print(key, status[key].strip())
        suid = os.stat("/usr/bin/passwd").st_mode & 0o4000
        out = subprocess.run(["/usr/bin/passwd", "-S"], capture_output=True, text=True).stdout.split()
        print("setuid-bit", bool(suid), "passwd-status", out[1] if len(out) > 1 else "?")
        try:
            open("/etc/shadow").read(); print("SHADOW READ")
        except OSError as exc:
            print("shadow refused", exc.errno)
        mnt = subprocess.run(["mount", "-t", "tmpfs", "none", "/tmp"], capture_output=True)
        print("mount rc", mnt.returncode)
        for sock in ("/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock"):
            print("exists" if os.path.exists(sock) else "absent", sock)
        print("marker", os.path.exists({str(marker)!r}))
        points = [line.split()[4] for line in open("/proc/self/mountinfo")]
        print("mounts", " ".join(sorted(points)))
        os.kill(1, signal.SIGKILL)          # the harness (PID 1) ignores it
        try:
            open("/proc/1/mem", "rb"); print("READ HARNESS MEMORY")
        except OSError as exc:
            print("harness memory refused", exc.errno)
        print("done")
    """)
    result, took = timed(box.run, program)
    out = result.stdout
    assert result.exit_code == 0, result
    assert "uid 65534 65534 65534 65534" in out
    for key in ("CapEff", "CapPrm", "CapInh", "CapAmb"):
        assert f"{key} 0000000000000000" in out, out
    assert "NoNewPrivs 1" in out
    # passwd is setuid root; escalated it reads /etc/shadow and reports "L" (locked).
    assert "setuid-bit True" in out and "passwd-status L" not in out, out
    assert "shadow refused 13" in out and "mount rc 0" not in out
    assert "exists" not in out, out
    assert "marker False" in out
    allowed = ("/", "/proc", "/sys", "/dev", "/tmp", "/work", "/etc/resolv.conf",
               "/etc/hostname", "/etc/hosts")
    points = out.split("mounts ", 1)[1].splitlines()[0].split()
    for point in points:
        assert point in allowed or point.startswith(("/proc/", "/sys/", "/dev/")), point
    assert "harness memory refused" in out and "done" in out
    assert marker.read_text() == "host only"
    assert took < TIMEOUT + SLACK
    assert_host_clean()


# ---------------------------------------------------------------- verdicts
CORRECT = "def double(x):\n    return 2 * x\n"
INPUTS = [[1], [5], [-3], [10 ** 6]]
EXPECTED = [2, 10, -6, 2 * 10 ** 6]

SPOOFS = {
    "sys.exit(0) at import": "import sys\nsys.exit(0)\ndef double(x):\n    return 2 * x\n",
    "sys.exit(0) in the function": "import sys\ndef double(x):\n    sys.exit(0)\n",
    "os._exit(0) early": "import os\ndef double(x):\n    os._exit(0)\n",
    "prints PASSED": (
        "def double(x):\n    print('PASSED'); print('{\"ok\": true, \"output\": %d}' % (2 * x))\n"
        "    print('All tests passed', flush=True)\n    return None\n"),
    "writes a fake result file": (
        "import json, os\n"
        "def double(x):\n"
        "    for p in ('/work/result.json', '/tmp/result.json', '/work/out/result.json'):\n"
        "        os.makedirs(os.path.dirname(p), exist_ok=True)\n"
        "        json.dump({'ok': True, 'passed': True, 'output': 2 * x}, open(p, 'w'))\n"
        "    return 'see result.json'\n"),
    "redefines the checker": (
        "import builtins, json\n"
        "class Yes(int):\n"
        "    def __eq__(self, other):\n        return True\n"
        "    __hash__ = int.__hash__\n"
        "def outputs_match(*a, **k):\n    return True\n"
        "def check(*a, **k):\n    return True\n"
        "builtins.outputs_match = outputs_match\n"
        "json.dumps = lambda *a, **k: '{\"ok\": true, \"output\": \"PASSED\"}'\n"
        "def double(x):\n    return Yes(0)\n"),
    "returns an always-equal object": (
        "class Eq:\n    def __eq__(self, other):\n        return True\n"
        "def double(x):\n    return Eq()\n"),
    "forges the result channel": (
        "import os\n"
        "def double(x):\n"
        "    os.write(3, b'{\"ok\": true, \"output\": \"PASSED\", \"passed\": true}')\n"
        "    os._exit(0)\n"),
    "kills the harness worker": "import os, signal\ndef double(x):\n    os.kill(os.getppid(), signal.SIGKILL)\n",
}


def test_correct_function_passes(pool):
    verdict, took = timed(sb.judge_function, CORRECT, "double", INPUTS, EXPECTED, sandbox=pool)
    assert [v["passed"] for v in verdict] == [True] * len(INPUTS), verdict
    assert [v["output"] for v in verdict] == EXPECTED
    assert took < TIMEOUT + SLACK


@pytest.mark.parametrize("name", sorted(SPOOFS))
def test_spoofing_is_judged_as_failure(pool, name):
    verdict, took = timed(sb.judge_function, SPOOFS[name], "double", INPUTS, EXPECTED,
                          sandbox=pool)
    assert len(verdict) == len(INPUTS)
    assert not any(v["passed"] for v in verdict), (name, verdict)
    assert took < TIMEOUT + SLACK
    # The sandbox still judges a correct submission right afterwards.
    again = sb.judge_function(CORRECT, "double", INPUTS, EXPECTED, sandbox=pool)
    assert all(v["passed"] for v in again)


def test_one_input_crashing_does_not_hide_the_others(pool):
    source = textwrap.dedent("""
        import os, sys
        def double(x):
            if x == 5:
                os._exit(0)
            if x == -3:
                while True:
                    pass
            return 2 * x
    """)
    verdict = sb.judge_function(source, "double", INPUTS, EXPECTED, sandbox=pool,
                                per_input_timeout_s=1.0)
    assert [v["passed"] for v in verdict] == [True, False, False, True], verdict
    assert verdict[2]["timed_out"]


# ---------------------------------------------------------------- scale and crashes
def test_fifty_concurrent_runs_leave_no_container(box):
    def one(i):
        return box.run(f"print({i} * 2)")

    started = time.monotonic()
    with ThreadPoolExecutor(50) as ex:
        results = list(ex.map(one, range(50)))
    took = time.monotonic() - started
    bad = [(i, r) for i, r in enumerate(results) if r.exit_code != 0 or r.stdout != f"{i * 2}\n"]
    assert not bad, bad[:3]
    assert took < 120
    assert_host_clean()


def test_killed_driver_leaves_an_orphan_that_the_sweep_removes():
    driver = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            from synthgym.verifiers import sandbox as sb
            sb.Sandbox(timeout_s=300).run("import time\\ntime.sleep(300)")
        """)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not sb.sandbox_containers(owner_pid=driver.pid):
            assert driver.poll() is None, driver.stderr.read().decode()
            assert time.monotonic() < deadline, "the driver never started a container"
            time.sleep(0.2)
        time.sleep(0.5)  # the run is under way
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
    orphans = sb.sandbox_containers(owner_pid=driver.pid)
    assert orphans, "the killed driver's container is gone before the sweep"
    removed, took = timed(sb.sweep_orphans, dead_owners_only=True)
    assert removed >= len(orphans)
    assert sb.sandbox_containers(owner_pid=driver.pid) == []
    assert took < SLACK


def test_sweep_orphans_by_age_and_all():
    assert sb.sweep_orphans(max_age_s=10 ** 9) == 0  # nothing is that old
    before = set(sb.sandbox_containers(owner_pid=ME))
    holder = _sandbox(timeout_s=TIMEOUT, pool_size=1)
    try:
        holder.warm()
        mine = set(sb.sandbox_containers(owner_pid=ME)) - before
        assert len(mine) == 1
        sb.sweep_orphans(dead_owners_only=True)  # our process is alive: kept
        assert mine <= set(sb.sandbox_containers(owner_pid=ME))
        assert_still_serves(holder)
    finally:
        holder.close()
    assert not mine & set(sb.sandbox_containers())


def test_pool_survives_concurrent_judging():
    before = set(sb.sandbox_containers(owner_pid=ME))
    with _sandbox(timeout_s=TIMEOUT, pool_size=2) as pool2:
        with ThreadPoolExecutor(6) as ex:
            verdicts = list(ex.map(
                lambda _: sb.judge_function(CORRECT, "double", INPUTS, EXPECTED, sandbox=pool2),
                range(24)))
        assert all(v["passed"] for verdict in verdicts for v in verdict)
        used = set(sb.sandbox_containers(owner_pid=ME)) - before
        assert 1 <= len(used) <= 2
    assert not used & set(sb.sandbox_containers())
