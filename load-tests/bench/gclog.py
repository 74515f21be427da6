#!/usr/bin/env python3
"""Peak Java heap of a run from its unified GC log (-Xlog:gc:file=...), plus an optional `jcmd GC.heap_info`
taken at the end. Prints JSON: {"peakUsedMb", "peakCommittedMb", "peakLiveMb", "gcs", "endUsedMb"}; peakLiveMb is the
largest heap left after a collection: what the run really kept, where peakUsedMb includes garbage not yet
collected (and grows with whatever heap the JVM allows itself).

Usage: gclog.py GC.log [HEAP_INFO.txt]
The heap is fullest just before a collection, so the peak used heap is the largest "before" figure of the
log's "before->after(committed)" entries (or the end figure, if larger). Standard library only.
"""
import json
import re
import sys

UNIT = {"B": 1 / (1024 * 1024), "K": 1 / 1024, "M": 1, "G": 1024}
ENTRY = re.compile(r"(\d+(?:\.\d+)?)([BKMG])->(\d+(?:\.\d+)?)([BKMG])\((\d+(?:\.\d+)?)([BKMG])\)")

peak_used = 0.0
peak_committed = 0.0
peak_live = 0.0
gcs = 0
with open(sys.argv[1], errors="replace") as f:
    for line in f:
        m = ENTRY.search(line)
        if not m:
            continue
        gcs += 1
        before = float(m.group(1)) * UNIT[m.group(2)]
        peak_live = max(peak_live, float(m.group(3)) * UNIT[m.group(4)])
        committed = float(m.group(5)) * UNIT[m.group(6)]
        peak_used = max(peak_used, before)
        peak_committed = max(peak_committed, committed)

end_used = None
if len(sys.argv) > 2:
    try:
        with open(sys.argv[2], errors="replace") as f:
            text = f.read()
        m = re.search(r"heap\s+total (\d+)K, used (\d+)K", text)
        if m:
            end_used = int(m.group(2)) / 1024
            peak_used = max(peak_used, end_used)
            peak_committed = max(peak_committed, int(m.group(1)) / 1024)
    except OSError:
        pass

print(json.dumps({"peakUsedMb": round(peak_used, 1), "peakCommittedMb": round(peak_committed, 1),
                  "peakLiveMb": round(peak_live, 1), "gcs": gcs,
                  "endUsedMb": None if end_used is None else round(end_used, 1)}))
