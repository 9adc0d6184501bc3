#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
"""Boot a lab guest under QEMU, drive its serial console, take dumps over QMP.

    qemu-driver.py --kernel VMLINUZ --initrd INITRD --outdir DIR
                   [--qemu BINARY] [--machine TYPE] [--cpu MODEL]
                   [--append CMDLINE] [--mem MB] [--smp N] [--vmcoreinfo]
                   [--boot-timeout S] ACTION...

The guest's first serial port is the console (ttyS0 on x86_64, ttyAMA0 on
an arm64 virt machine: `--qemu qemu-system-aarch64 --machine virt --cpu max`).

ACTION is run in order once the guest has printed "LAB: READY":
    FILE=FORMAT   QMP dump-guest-memory (paging=false) of format FORMAT
                  ("elf", "kdump-zlib", ...) into DIR/FILE; waits for
                  DUMP_COMPLETED and checks it succeeded
    panic         sends "panic" to the guest's console, waits for the
                  "Kernel panic" line, then 2 s more for the other CPUs

With --early FILE the guest is started stopped (-S) and no ACTION runs:
FILE-real.elf is dumped at once (every vCPU at its reset vector, real
mode), then the guest runs in short slices, stopped after each, until vCPU
0 is in 64-bit mode below the kernel half (the boot decompressor's
identity-mapped code); FILE.elf is dumped there.  The state is read back
with "info registers" after each stop, never assumed from a delay (TCG and
KVM differ by orders of magnitude); a slice that overshoots into the
kernel half starts QEMU again with shorter slices.  early.env records, for
each dump, every vCPU's RIP, CR0, CR3, EFER and the mode they mean.

Then QEMU is told to quit.  Outputs, in DIR: serial.log (the whole console),
qemu.log (QEMU's own stdout/stderr), guest.env (every "LAB: key=value" line
the guest printed before READY, as key=value lines).

The driver listens on two unix sockets (in a private temporary directory) and
QEMU connects to them as a client, so no console byte is lost before the
driver is attached.  Every wait has a timeout; on any failure QEMU is killed,
the tail of the serial log and a one-line "qemu-driver: error: ..." go to
stderr, the same line to DIR/driver.err, and the exit status is 1 - or 2 when
the guest kernel itself crashed before READY (its "end Kernel panic" line),
which the lab may boot again (lab.sh boot).
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

CONNECT_TIMEOUT = 30    # QEMU start-up until it has connected both sockets
QMP_TIMEOUT = 30        # reply to one QMP command
DUMP_TIMEOUT = 300      # one dump-guest-memory until DUMP_COMPLETED
PANIC_TIMEOUT = 60      # "panic" sent until "Kernel panic" seen
PANIC_SETTLE = 2        # after "Kernel panic": let the other CPUs stop
QUIT_TIMEOUT = 20       # QMP quit until the process is gone
EARLY_SLICE = 0.02      # --early: first run slice, halved after an overshoot
EARLY_TRIES = 4         # --early: QEMU starts at most
EARLY_TIMEOUT = 60      # --early: guest run time until the decompressor
KERNEL_HALF = 0xffff800000000000


class DriverError(Exception):
    """A step failed; the message is the one-line reason."""


class GuestCrashed(DriverError):
    """The guest kernel panicked before "LAB: READY" (exit status 2)."""


class Serial:
    """The guest console: a reader thread appends to a log and a buffer."""

    def __init__(self, sock, log_path):
        self.sock = sock
        self.log = open(log_path, "wb")
        self.buf = ""
        self.closed = False
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._reader, daemon=True)
        self.thread.start()

    def _reader(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            with self.cond:
                if not data:
                    self.closed = True
                    self.cond.notify_all()
                    return
                self.log.write(data)
                self.log.flush()
                self.buf += data.decode("utf-8", "replace").replace("\r", "")
                self.cond.notify_all()

    def wait_for(self, regex, timeout, start=0, what=None):
        """Wait until @regex matches the console text from offset @start.

        @returns the match object (positions relative to the whole buffer)
        @raises DriverError on timeout or when the console closes
        """
        pat = re.compile(regex, re.M)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = pat.search(self.buf, start)
                if m:
                    return m
                if self.closed:
                    raise DriverError("console closed (QEMU exited?) while waiting for %s"
                                      % (what or regex))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DriverError("no %s on the console within %d s" % (what or regex, timeout))
                self.cond.wait(min(left, 1.0))

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")

    def tail(self, n=20):
        with self.cond:
            return "\n".join(self.buf.rstrip("\n").split("\n")[-n:])


class Qmp:
    """A minimal QMP client: one command at a time, events kept in a list."""

    def __init__(self, sock):
        self.sock = sock
        self.rfile = sock.makefile("rb")
        self.events = []
        sock.settimeout(QMP_TIMEOUT)
        greeting = self._recv()
        if "QMP" not in greeting:
            raise DriverError("unexpected QMP greeting: %r" % greeting)
        self.command("qmp_capabilities")

    def _recv(self, timeout=QMP_TIMEOUT):
        try:
            line = self.rfile.readline()
        except socket.timeout:
            raise DriverError("QMP: no message within %d s" % timeout)
        if not line:
            raise DriverError("QMP connection closed (QEMU exited?)")
        return json.loads(line)

    def command(self, name, timeout=QMP_TIMEOUT, **args):
        """Run QMP command @name, waiting up to @timeout s; @returns its "return" value."""
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        self.sock.settimeout(timeout)
        try:
            while True:
                r = self._recv(timeout)
                if "event" in r:
                    self.events.append(r)
                elif "error" in r:
                    raise DriverError("QMP %s failed: %s" % (name, r["error"].get("desc", r["error"])))
                elif "return" in r:
                    return r["return"]
        finally:
            self.sock.settimeout(QMP_TIMEOUT)

    def wait_event(self, name, timeout):
        """Wait for event @name (or take it from the queue); @returns the event."""
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev["event"] == name:
                    return self.events.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise DriverError("no QMP %s event within %d s" % (name, timeout))
            self.sock.settimeout(left)
            try:
                r = self._recv(timeout)
            finally:
                self.sock.settimeout(QMP_TIMEOUT)
            if "event" in r:
                self.events.append(r)


def listen(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    s.settimeout(CONNECT_TIMEOUT)
    return s


def accept(lsock, proc, what):
    """Accept QEMU's connection on @lsock, failing early if QEMU died."""
    deadline = time.monotonic() + CONNECT_TIMEOUT
    lsock.settimeout(0.5)
    while True:
        try:
            conn, _ = lsock.accept()
            conn.settimeout(None)
            return conn
        except socket.timeout:
            if proc.poll() is not None:
                raise DriverError("QEMU exited (status %d) before connecting its %s socket"
                                  % (proc.returncode, what))
            if time.monotonic() > deadline:
                raise DriverError("QEMU did not connect its %s socket within %d s"
                                  % (what, CONNECT_TIMEOUT))


def dump(qmp, path, fmt):
    """dump-guest-memory of format @fmt into @path; waits for completion.

    Synchronous (detach=false): the command returns only once QEMU has
    finished, including its clean-up.  With detach=true, DUMP_COMPLETED comes
    before QEMU drops its migration blocker, and a dump requested right after
    it fails with "disallowing migration blocker" (seen with QEMU 7.2).
    The DUMP_COMPLETED event is still awaited, for its status.
    """
    t0 = time.monotonic()
    qmp.command("dump-guest-memory", timeout=DUMP_TIMEOUT, paging=False,
                protocol="file:" + path, format=fmt, detach=False)
    ev = qmp.wait_event("DUMP_COMPLETED", QMP_TIMEOUT)
    data = ev.get("data", {})
    if data.get("error"):
        raise DriverError("dump %s (%s) failed: %s" % (os.path.basename(path), fmt, data["error"]))
    status = data.get("result", {}).get("status")
    if status != "completed":
        raise DriverError("dump %s (%s) ended with status %r" % (os.path.basename(path), fmt, status))
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        raise DriverError("dump %s (%s): QEMU reported success but the file is empty"
                          % (os.path.basename(path), fmt))
    print("qemu-driver: %s (%s) %d MB in %.1f s" % (os.path.basename(path), fmt,
          os.path.getsize(path) >> 20, time.monotonic() - t0), file=sys.stderr)



def vcpu_states(qmp):
    """Every vCPU's registers after a stop: a list of dicts (cpu, rip, cr0, cr3, efer, mode)."""
    text = qmp.command("human-monitor-command", **{"command-line": "info registers -a"})
    states = []
    for block in re.split(r"(?m)^CPU#", text)[1:]:
        cpu = int(block.split(None, 1)[0].strip(":"))
        # "RIP=" in 64-bit mode, "EIP=" below it.
        regs = dict((k.replace("EIP", "RIP"), int(v, 16))
                    for k, v in re.findall(r"\b(RIP|EIP|CR0|CR3|EFER)=([0-9a-fA-F]+)", block))
        if len(regs) < 4:
            raise DriverError("info registers: no RIP/CR0/CR3/EFER for CPU %d" % cpu)
        states.append({"cpu": cpu, "rip": regs["RIP"], "cr0": regs["CR0"], "cr3": regs["CR3"],
                       "efer": regs["EFER"], "mode": cpu_mode(regs)})
    if not states:
        raise DriverError("info registers -a: no CPU in %r" % text[:80])
    return states


def cpu_mode(r):
    """The boot stage registers @r show: real, protected, decompressor (64-bit, low half), kernel."""
    if not r["CR0"] & 1:
        return "real"
    if not r["CR0"] & (1 << 31) or not r["EFER"] & (1 << 10):   # paging off, or not long mode (LMA)
        return "protected"
    return "kernel" if r["RIP"] >= KERNEL_HALF else "decompressor"


def write_early_env(path, dumps):
    """early.env: per dump NAME, NAME_CPUn_{MODE,RIP,CR0,CR3,EFER} lines."""
    with open(path, "w") as f:
        f.write("# vCPU state of each early-boot dump, read with QEMU's info registers (qemu-driver.py --early)\n")
        for name, states in dumps:
            key = re.sub(r"\W", "_", name.rsplit(".", 1)[0]).upper()
            f.write("%s_NCPUS=%d\n" % (key, len(states)))
            for s in states:
                for k in ("mode", "rip", "cr0", "cr3", "efer"):
                    v = s[k] if k == "mode" else "0x%x" % s[k]
                    f.write("%s_CPU%d_%s=%s\n" % (key, s["cpu"], k.upper(), v))


def run_early(a, cmd, proc, qmp):
    """--early: the real-mode dump at once, then run in slices until vCPU 0 is in the decompressor.
    @returns the (name, states) pairs, or None when a slice overshot into the kernel."""
    name = a.early
    out = []
    states = vcpu_states(qmp)
    if any(s["mode"] != "real" for s in states):
        raise DriverError("a stopped guest (-S) is not in real mode: %r" % states)
    dump(qmp, os.path.join(a.outdir, name + "-real.elf"), "elf")
    out.append((name + "-real.elf", states))
    t0 = time.monotonic()
    while True:
        qmp.command("cont")
        time.sleep(a.slice)
        qmp.command("stop")
        states = vcpu_states(qmp)
        mode = states[0]["mode"]
        if mode == "kernel":
            return None
        if mode == "decompressor":
            break
        if time.monotonic() - t0 > EARLY_TIMEOUT:
            raise DriverError("vCPU 0 not in the decompressor within %d s (last %r)" % (EARLY_TIMEOUT, states[0]))
    print("qemu-driver: vCPU 0 in the decompressor after %.2f s (RIP 0x%x, CR3 0x%x)"
          % (time.monotonic() - t0, states[0]["rip"], states[0]["cr3"]), file=sys.stderr)
    dump(qmp, os.path.join(a.outdir, name + ".elf"), "elf")
    out.append((name + ".elf", states))
    return out


def run(a, tmpdir):
    qmp_path = os.path.join(tmpdir, "qmp.sock")
    ser_path = os.path.join(tmpdir, "serial.sock")
    lqmp, lser = listen(qmp_path), listen(ser_path)
    cmd = [a.qemu, "-accel", "tcg", "-m", str(a.mem), "-smp", str(a.smp),
           "-nographic", "-no-reboot", "-monitor", "none", "-parallel", "none",
           "-net", "none",
           "-kernel", a.kernel, "-initrd", a.initrd, "-append", a.append,
           "-chardev", "socket,id=qmp0,path=" + qmp_path,
           "-mon", "chardev=qmp0,mode=control",
           "-chardev", "socket,id=ser0,path=" + ser_path,
           "-serial", "chardev:ser0"]
    if a.machine:
        cmd += ["-M", a.machine]
    if a.vmcoreinfo:
        cmd += ["-device", "vmcoreinfo"]
    if a.cpu:
        cmd += ["-cpu", a.cpu]
    if a.early:
        cmd += ["-S"]
    with open(os.path.join(a.outdir, "qemu.cmdline"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    qlog = open(os.path.join(a.outdir, "qemu.log"), "wb")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qlog, stderr=subprocess.STDOUT)
    serial = None
    try:
        # QEMU opens its chardevs in command-line order: QMP first, then serial.
        qmp_sock = accept(lqmp, proc, "QMP")
        ser_sock = accept(lser, proc, "serial")
        serial = Serial(ser_sock, os.path.join(a.outdir, "serial.log"))
        qmp = Qmp(qmp_sock)
        if a.early:
            early = run_early(a, cmd, proc, qmp)
            if early is not None:
                write_early_env(os.path.join(a.outdir, "early.env"), early)
            try:
                qmp.command("quit")
            except DriverError:
                pass
            proc.wait(QUIT_TIMEOUT)
            return early is not None
        t0 = time.monotonic()
        # A kernel that dies while booting ends with "---[ end Kernel panic - not
        # syncing: ... ]---" (kernel/panic.c); with panic=0 it then hangs, so
        # stop at that line rather than at the timeout.
        m = serial.wait_for(r"^.*(LAB: READY|end Kernel panic - not syncing.*)", a.boot_timeout,
                            what="LAB: READY")
        if "LAB: READY" not in m.group(0):
            first = re.search(r"^.*\b(Oops|BUG|Kernel panic - not syncing)\b.*$", serial.buf, re.M)
            raise GuestCrashed("the guest kernel crashed while booting: %s"
                               % (first.group(0).strip() if first else m.group(1)))
        print("qemu-driver: guest ready in %.1f s" % (time.monotonic() - t0), file=sys.stderr)
        info = dict(re.findall(r"LAB: (\w+)=(\S*)", serial.buf[:m.end()]))
        with open(os.path.join(a.outdir, "guest.env"), "w") as f:
            for k, v in info.items():
                f.write("%s=%s\n" % (k, v))
        for act in a.actions:
            if act == "panic":
                mark = len(serial.buf)
                serial.send("panic")
                serial.wait_for(r"Kernel panic", PANIC_TIMEOUT, start=mark, what="'Kernel panic'")
                time.sleep(PANIC_SETTLE)
            elif "=" in act:
                name, fmt = act.split("=", 1)
                dump(qmp, os.path.join(a.outdir, name), fmt)
            else:
                raise DriverError("unknown action %r" % act)
        try:
            qmp.command("quit")
        except DriverError:
            pass                        # QEMU may close the socket before replying
        proc.wait(QUIT_TIMEOUT)
        return True
    except BaseException as exc:
        if serial is not None:
            sys.stderr.write("---- serial log tail ----\n%s\n-------------------------\n"
                             % serial.tail())
        # When QEMU itself died, its own message is the useful one.
        try:
            proc.wait(1)
        except subprocess.TimeoutExpired:
            pass
        if proc.returncode:
            qlog.flush()
            with open(os.path.join(a.outdir, "qemu.log"), errors="replace") as f:
                lines = [l.strip() for l in f if l.strip()]
            raise DriverError("QEMU exited with status %d: %s"
                              % (proc.returncode, lines[-1] if lines else "(no message)")) from exc
        raise
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        qlog.close()
        if serial is not None:
            serial.thread.join(5)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--machine", default=None, help="QEMU -M machine type (virt for arm64)")
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--append", default="console=ttyS0 panic=0 kaslr")
    ap.add_argument("--mem", type=int, default=512, help="guest memory in MiB")
    ap.add_argument("--smp", type=int, default=2)
    ap.add_argument("--vmcoreinfo", action="store_true", help="add -device vmcoreinfo")
    ap.add_argument("--cpu", default=None, help="QEMU -cpu model (e.g. qemu64,+la57 for 5-level paging)")
    ap.add_argument("--boot-timeout", type=int, default=120)
    ap.add_argument("--early", metavar="NAME", default=None,
                    help="early-boot dumps NAME-real.elf and NAME.elf (no ACTION)")
    ap.add_argument("--outdir", required=True)
    ap.add_argument("actions", nargs="*")
    a = ap.parse_args()
    a.outdir = os.path.abspath(a.outdir)
    err_path = os.path.join(a.outdir, "driver.err")
    tmpdir = tempfile.mkdtemp(prefix="kaslr-lab-")    # short path: sun_path is 108 bytes
    try:
        a.slice = EARLY_SLICE
        for _ in range(EARLY_TRIES if a.early else 1):
            if run(a, tmpdir):
                return 0
            print("qemu-driver: a %.3f s slice ran into the kernel half: again with half of it" % a.slice,
                  file=sys.stderr)
            a.slice /= 2
            shutil.rmtree(tmpdir, ignore_errors=True)
            os.makedirs(tmpdir)
        raise DriverError("every slice down to %.3f s ran past the decompressor" % (a.slice * 2))
    except (DriverError, OSError, subprocess.SubprocessError, ValueError) as exc:
        msg = str(exc) or exc.__class__.__name__
        print("qemu-driver: error: %s" % msg, file=sys.stderr)
        try:
            with open(err_path, "w") as f:
                f.write(msg + "\n")
        except OSError:
            pass
        return 2 if isinstance(exc, GuestCrashed) else 1
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
