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

Then QEMU is told to quit.  Outputs, in DIR: serial.log (the whole console),
qemu.log (QEMU's own stdout/stderr), guest.env (every "LAB: key=value" line
the guest printed before READY, as key=value lines).

The driver listens on two unix sockets (in a private temporary directory) and
QEMU connects to them as a client, so no console byte is lost before the
driver is attached.  Every wait has a timeout; on any failure QEMU is killed,
the tail of the serial log and a one-line "qemu-driver: error: ..." go to
stderr, the same line to DIR/driver.err, and the exit status is 1.
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


class DriverError(Exception):
    """A step failed; the message is the one-line reason."""


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
        t0 = time.monotonic()
        m = serial.wait_for(r"^.*LAB: READY", a.boot_timeout, what="LAB: READY")
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
    ap.add_argument("--outdir", required=True)
    ap.add_argument("actions", nargs="*")
    a = ap.parse_args()
    a.outdir = os.path.abspath(a.outdir)
    err_path = os.path.join(a.outdir, "driver.err")
    tmpdir = tempfile.mkdtemp(prefix="kaslr-lab-")    # short path: sun_path is 108 bytes
    try:
        run(a, tmpdir)
        return 0
    except (DriverError, OSError, subprocess.SubprocessError, ValueError) as exc:
        msg = str(exc) or exc.__class__.__name__
        print("qemu-driver: error: %s" % msg, file=sys.stderr)
        try:
            with open(err_path, "w") as f:
                f.write(msg + "\n")
        except OSError:
            pass
        return 1
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
