#!/usr/bin/env python3
"""Prints the timed candidates of chosen layers from trtbuild --export-build-log files.

Usage: show_candidates.py REGEX BUILD_JSON...  (layers whose name or type matches REGEX; the
first match of each name per file). Each line: file, layer (shortened), the winner, then every
candidate's tactic suffix and time in ms."""
import json
import re
import sys

pattern = re.compile(sys.argv[1])
for path in sys.argv[2:]:
    try:
        layers = json.load(open(path))["Layers"]
    except (OSError, ValueError, KeyError) as e:
        print(f"{path}: unreadable ({e})")
        continue
    seen = set()
    for layer in layers:
        name, kind = layer.get("Name", ""), layer.get("LayerType", "")
        if not (pattern.search(name) or pattern.search(kind)) or kind in seen:
            continue
        seen.add(kind)
        times = " ".join(
            f"{c['Tactic'].split('_')[-1] if c['Tactic'][-2:-1].isalpha() else c['Tactic']}="
            + ("%.4f" % c["TimeMs"] if c.get("TimeMs") is not None else "failed")
            for c in layer.get("Candidates", []))
        print(f"{path.split('/')[-1]} {name[:40]} won {layer.get('TacticName')}: {times}")
