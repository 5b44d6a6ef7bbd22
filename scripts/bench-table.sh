#!/usr/bin/env bash
# bench-table.sh: runs the runtime benchmarks (or reads a saved run) and
# prints a Markdown table of medians, with each system's ratio to raw wazero
# measured in the same run.
#
# Usage: bash scripts/bench-table.sh            # runs go test -bench, -count 5
#        bash scripts/bench-table.sh bench.out  # reads a saved run
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ $# -ge 1 ]; then
    out=$1
else
    out=$(mktemp)
    trap 'rm -f "$out"' EXIT
    go test -run '^$' -bench . -benchmem -count "${COUNT:-5}" ./runtime/ | tee "$out" >&2
fi

awk '
/^Benchmark/ && / ns\/op/ {
    name = $1; sub(/-[0-9]+$/, "", name)
    for (i = 2; i <= NF; i++) {
        if ($(i+1) == "ns/op") ns = $i
        if ($(i+1) == "B/op") bytes = $i
        if ($(i+1) == "allocs/op") allocs = $i
    }
    n[name]++; v[name, n[name]] = ns; b[name] = bytes; a[name] = allocs
    if (!(name in seen)) { seen[name] = 1; order[++k] = name }
}
function median(name,    m, i, j, t, arr) {
    m = n[name]
    for (i = 1; i <= m; i++) arr[i] = v[name, i] + 0
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
    if (m % 2) return arr[(m + 1) / 2]
    return (arr[m / 2] + arr[m / 2 + 1]) / 2
}
function human(ns) {
    if (ns >= 1e6) return sprintf("%.2f ms", ns / 1e6)
    if (ns >= 1e3) return sprintf("%.2f µs", ns / 1e3)
    return sprintf("%.1f ns", ns)
}
END {
    print "| benchmark | system | median | vs raw wazero | B/op | allocs/op | runs |"
    print "|---|---|---:|---:|---:|---:|---:|"
    for (i = 1; i <= k; i++) {
        name = order[i]
        fam = name; sub(/\/[^\/]*$/, "", fam)
        sys = name; sub(/^.*\//, "", sys)
        base = fam "/wazero"
        ratio = (base in n) ? sprintf("%.2f×", median(name) / median(base)) : "—"
        printf "| %s | %s | %s | %s | %s | %s | %d |\n", fam, sys, human(median(name)), ratio, b[name], a[name], n[name]
    }
}' "$out"
