#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
"""Find the system's Debian archive and security mirrors in its apt configuration.

    apt-sources.py [--root DIR] [CODENAME]

Reads sources.list and sources.list.d/*.list ("deb [opts] URI suite comp...")
and sources.list.d/*.sources (deb822 stanzas with Types/URIs/Suites/Signed-By)
under DIR (default /etc/apt) and prints, for the system's release CODENAME
(default: VERSION_CODENAME of os-release):

    main URI KEYRING        the entry that serves CODENAME
    security URI KEYRING    the entry that serves CODENAME-security (if any)

KEYRING is the entry's Signed-By file, or "-" when it has none (or an inline
key).  The lab points private apt configurations for other suites at the
same mirrors, so no mirror name is ever written into the project.  Exit 1
with a message when no entry serves CODENAME.
"""
import argparse
import glob
import os
import sys


def one_line_entries(path):
    """Entries of a one-line-style sources file: (types, uris, suites, signed_by)."""
    res = []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            words = line.split()
            typ, rest = words[0], words[1:]
            opts = {}
            if rest and rest[0].startswith("["):
                # Options: "[a=b c=d]" possibly spread over several words.
                optwords = []
                while rest:
                    w = rest.pop(0)
                    optwords.append(w)
                    if w.endswith("]"):
                        break
                for o in " ".join(optwords).strip("[]").split():
                    if "=" in o:
                        k, v = o.split("=", 1)
                        opts[k.lower()] = v
            if len(rest) >= 2:
                res.append(([typ], [rest[0]], [rest[1]], opts.get("signed-by")))
    return res


def deb822_entries(path):
    """Entries of a deb822 .sources file (stanzas separated by blank lines)."""
    res, stanza, key = [], {}, None

    def flush():
        if stanza and stanza.get("enabled", "yes").lower() != "no":
            res.append((stanza.get("types", "").split(), stanza.get("uris", "").split(),
                        stanza.get("suites", "").split(), stanza.get("signed-by")))

    with open(path, errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith("#"):
                continue
            if not line.strip():
                flush()
                stanza, key = {}, None
            elif line[0] in " \t" and key:
                stanza[key] += "\n" + line.strip()     # continuation (e.g. inline key)
            elif ":" in line:
                key, val = line.split(":", 1)
                key = key.strip().lower()
                stanza[key] = val.strip()
    flush()
    return res


def codename(root):
    for p in (os.path.join(root, "..", "os-release"), "/usr/lib/os-release"):
        try:
            with open(p) as f:
                for line in f:
                    if line.startswith("VERSION_CODENAME="):
                        return line.split("=", 1)[1].strip().strip('"')
        except OSError:
            pass
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default="/etc/apt")
    ap.add_argument("codename", nargs="?")
    a = ap.parse_args()
    code = a.codename or codename(a.root)
    if not code:
        print("apt-sources: error: cannot tell the system's release codename", file=sys.stderr)
        return 1
    entries = []
    files = [os.path.join(a.root, "sources.list")] + sorted(
        glob.glob(os.path.join(a.root, "sources.list.d", "*.list")))
    for p in files:
        if os.path.exists(p):
            entries += one_line_entries(p)
    for p in sorted(glob.glob(os.path.join(a.root, "sources.list.d", "*.sources"))):
        entries += deb822_entries(p)
    found = {}
    for types, uris, suites, signed in entries:
        if "deb" not in types or not uris:
            continue
        keyring = signed if signed and "\n" not in signed and signed.startswith("/") else "-"
        for kind, suite in (("main", code), ("security", code + "-security")):
            if suite in suites and kind not in found:
                found[kind] = (uris[0].rstrip("/"), keyring)
    if "main" not in found:
        print("apt-sources: error: no 'deb' entry for %s in %s" % (code, a.root), file=sys.stderr)
        return 1
    for kind in ("main", "security"):
        if kind in found:
            print(kind, *found[kind])
    return 0


if __name__ == "__main__":
    sys.exit(main())
