#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fold one VM run into results.

Inputs (in the result folder): console.log (ttyS0: the kernel log, with the
built-in KUnit suites' KTAP) and results.log (ttyS1: what the guest suites
printed, with "RESULT pass|fail|skip name [reason]" lines) and
host-results.log (RESULT lines of the host-side checks: style, runner).

Prints one line per test, the KUnit suite summary lines, every kernel splat
found in the console log, and last "N passed, N failed, N skipped".
Exits 1 on any failure, splat, missing suite or unfinished run.
"""

import argparse
import os
import re
import sys

# Kernel log lines that mean something went wrong, whatever the test said.
SPLAT_PATTERNS = [
    r"WARNING: ",
    r"\bBUG: ",  # not IGT's "DEBUG: " lines
    r"BUG kmalloc",
    r"Oops",
    r"general protection fault",
    r"Kernel panic",
    r"kernel BUG at",
    r"possible circular locking dependency",
    r"possible recursive locking",
    r"inconsistent lock state",
    r"suspicious RCU usage",
    r"INFO: lockdep",
    r"lockdep: ",
    r"DEBUG_LOCKS_WARN_ON",
    r"KASAN:",
    r"UBSAN:",
    r"unreferenced object 0x",
    r"INFO: task .* blocked for more than",
    r"soft lockup",
    r"hard LOCKUP",
    r"rcu_sched detected stalls|rcu: INFO: .* detected stalls",
    r"list_add corruption|list_del corruption",
    r"page dumped because",
    r"Bad page (state|map)",
]
SPLAT_RE = re.compile("|".join("(?:%s)" % p for p in SPLAT_PATTERNS))
TS_RE = re.compile(r"^\[\s*\d+\.\d+\]\s?")


def read(path):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read().replace("\r", "").splitlines()
    except FileNotFoundError:
        return []


def parse_kunit(lines, results, summaries):
    """Parse the boot-time KTAP. Suites are at indent 4, cases at indent 4
    inside a suite (parameterised cases' children at 8 are folded)."""
    plan = None
    suite = None
    finished = set()
    started = []
    for raw in lines:
        line = TS_RE.sub("", raw)
        m = re.match(r"^1\.\.(\d+)$", line)
        if m and plan is None:
            plan = int(m.group(1))
            continue
        m = re.match(r"^    # Subtest: (\S+)", line)
        if m:
            suite = m.group(1)
            started.append(suite)
            continue
        m = re.match(r"^# (\S+): pass:(\d+) fail:(\d+) skip:(\d+) total:(\d+)", line)
        if m and m.group(1) != "Totals":
            summaries.append(line)
            continue
        m = re.match(r"^(not ok|ok) \d+ (\S+)(.*)$", line)
        if m and suite:
            finished.add(m.group(2))
            if m.group(1) == "not ok" and not any(
                    r[1].startswith("kunit.%s." % m.group(2)) and r[0] == "fail"
                    for r in results):
                results.append(("fail", "kunit.%s" % m.group(2), "suite failed"))
            suite = None
            continue
        m = re.match(r"^    (not ok|ok) \d+ (.+?)(?: # (SKIP.*))?$", line)
        if m and suite:
            name = "kunit.%s.%s" % (suite, m.group(2).strip())
            if m.group(3):
                results.append(("skip", name, m.group(3)[5:].strip()))
            elif m.group(1) == "ok":
                results.append(("pass", name, ""))
            else:
                results.append(("fail", name, ""))
    if plan is None:
        results.append(("fail", "kunit.ran", "no KTAP plan in the console log"))
        return
    if plan == 0:
        results.append(("fail", "kunit.ran", "no KUnit suite is built in"))
    for s in started:
        if s not in finished:
            results.append(("fail", "kunit.%s" % s, "suite did not finish"))
    if len(finished) != plan:
        results.append(("fail", "kunit.plan",
                        "plan 1..%d but %d suites finished" % (plan, len(finished))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="check")
    ap.add_argument("--suites", default="")
    ap.add_argument("--kunit", type=int, default=0)
    ap.add_argument("outdir")
    a = ap.parse_args()

    console = read(os.path.join(a.outdir, "console.log"))
    res_lines = read(os.path.join(a.outdir, "results.log"))
    host_lines = read(os.path.join(a.outdir, "host-results.log"))
    results = []
    summaries = []

    if a.kunit:
        parse_kunit(console, results, summaries)

    suites = [s for s in a.suites.split(",") if s and s != "kunit"]
    seen_begin = set()
    seen_end = set()
    for line in res_lines:
        m = re.match(r"^RIG-SUITE-(BEGIN|END) (\S+)", line)
        if m:
            (seen_begin if m.group(1) == "BEGIN" else seen_end).add(m.group(2))
            continue
        m = re.match(r"^RESULT (pass|fail|skip) (\S+) ?(.*)$", line)
        if m:
            results.append((m.group(1), m.group(2), m.group(3).strip()))
    for s in suites:
        if s not in seen_end:
            results.append(("fail", "%s.finished" % s, "suite did not finish"))
    for line in host_lines:
        m = re.match(r"^RESULT (pass|fail|skip) (\S+) ?(.*)$", line)
        if m:
            results.append((m.group(1), m.group(2), m.group(3).strip()))
    if "RIG-DONE" not in res_lines:
        why = "timeout" if any(l.startswith("TIMEOUT") for l in res_lines) else \
            "guest did not finish (crash or early exit)"
        results.append(("fail", "vm.completed", why))

    splats = []
    for i, raw in enumerate(console):
        if SPLAT_RE.search(raw):
            splats.append(i)
    if splats:
        results.append(("fail", "kernel.splat", "%d splat line(s) in console.log"
                        % len(splats)))

    if a.mode == "check":
        for raw in console:
            if "smp: Brought up" in raw:
                print("guest: " + TS_RE.sub("", raw))
        for st, name, why in results:
            print("%-4s %s%s" % (st.upper(), name, (" (%s)" % why) if why else ""))
        for s in summaries:
            print("KUnit " + s)
    elif a.mode in ("run", "vm"):
        for st, name, why in results:
            if st == "fail":
                print("FAIL %s%s" % (name, (" (%s)" % why) if why else ""))
        if not any(r[0] == "fail" for r in results):
            print("%s: finished, no kernel splat" % a.mode)

    if splats:
        print("\n=== kernel splats (console.log) ===")
        shown = set()
        for i in splats[:20]:
            for j in range(max(0, i - 2), min(len(console), i + 25)):
                if j not in shown:
                    print(console[j])
                    shown.add(j)
            print("---")

    npass = sum(1 for r in results if r[0] == "pass")
    nfail = sum(1 for r in results if r[0] == "fail")
    nskip = sum(1 for r in results if r[0] == "skip")
    print("logs: %s/{console.log,results.log}" % a.outdir)
    with open(os.path.join(a.outdir, "summary.txt"), "w") as f:
        for st, name, why in results:
            f.write("%s %s %s\n" % (st, name, why))
    if a.mode == "check":
        if npass + nfail == 0:
            nfail += 1
            print("FAIL harness.ran (no test ran)")
        print("%d passed, %d failed, %d skipped" % (npass, nfail, nskip))
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
