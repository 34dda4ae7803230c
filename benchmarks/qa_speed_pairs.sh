#!/bin/bash
# cxlens qa speed per agent message, before (a worktree of 923952b at /tmp/qa_base) and after (this checkout), in
# ABBA pairs on the same machine (issue 22; docs/benchmarks.md "Found and fixed"):
#   git worktree add /tmp/qa_base 923952b && bash benchmarks/qa_speed_pairs.sh
cd "$(dirname "$0")/.."
A="benchmarks/bench_qa_kechtel.py --encoder minilm-l2 --speed-only --speed-repeat 5"
b() { python benchmarks/run_at_commit.py /tmp/qa_base $A $1 2>/dev/null | grep -o '"messages_per_s": [0-9.]*' | sed "s/^/before $2 /"; }
a() { python $A $1 2>/dev/null | grep -o '"messages_per_s": [0-9.]*' | sed "s/^/after $2 /"; }
for i in 1 2 3 4 5; do b "" kw; a "" kw; a "" kw; b "" kw; done
P="--speed-scorecard benchmarks/data/scorecards/plain_spotifycares.yaml"
for i in 1 2 3; do b "$P" plain; a "$P" plain; a "$P" plain; b "$P" plain; done
uptime
