#!/usr/bin/env python3
"""The summary of one Gatling run from its console log, as JSON: what ClusterSimulation printed (the import, each
node's requests, import batches and row counts), Gatling's last statistics block and its assertions.

Usage: gatling_summary.py GATLING.log EXIT_CODE OPTIONS > OUT.json. Standard library only.
"""
import json
import re
import sys

log_path, exit_code, options = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(log_path, errors="replace") as f:
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line.rstrip("\n")) for line in f]
printed = [l for l in lines if re.match(r"^(import [0-9a-f-]{36}: |node |batches: |cluster of |generated )", l)]
# the last statistics block: from the second-to-last ==== rule (Gatling frames its summary with two) to the last
rules = [i for i, l in enumerate(lines) if l.startswith("====")]
stats = lines[rules[-2]:rules[-1] + 1] if len(rules) >= 2 else []
assertions = [l.strip() for l in lines if re.search(r": (true|false)( \(actual|\s*$)", l)]
failures = [l.strip() for l in lines if "AssertionError" in l or "rows missing" in l]
print(json.dumps({"ok": exit_code == 0, "exitCode": exit_code, "options": options, "printed": printed,
                  "statistics": stats, "assertions": assertions, "failures": failures[:5]}))
