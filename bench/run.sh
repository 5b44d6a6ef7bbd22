#!/usr/bin/env bash
# run.sh: the benchmarks against peers, in one command. Builds the peers'
# guests and plugin processes (build-peers.sh), checks that every system
# gives the same answer (TestSameAnswer), runs the benchmarks and prints the
# table of medians and ratios to raw wazero (cmd/benchtable), preceded by
# the machine it ran on. docs/benchmarks.md holds the latest table.
#
# Usage, from anywhere:
#   bash bench/run.sh           full run, about 10 minutes on 2 cores
#   bash bench/run.sh --quick   one short run of each benchmark, about 2 minutes
#   bash bench/run.sh --check   every benchmark once (-benchtime 1x): a check
#                               of the harness, as CI runs it; the numbers
#                               mean nothing
#
# The build tags are $BENCH_TAGS, default wasmtime: this runtime's rows on
# its wasmtime engine (wasmtime_test.go; cgo). BENCH_TAGS= leaves them out.
# The raw go test output is kept in $BENCH_OUT (default: a new directory
# under /tmp, printed at the end): benchstat reads it too, e.g.
#   go run golang.org/x/perf/cmd/benchstat -filter .unit:sec/op $BENCH_OUT/calls.txt
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

mode=${1:-full}
case $mode in
full)
    # Readiness of a Go plugin compiles 3 MB of Go: seconds each.
    count=5 benchtime=500ms ready_count=3 ready_benchtime=10x go_ready_benchtime=3x ;;
--quick)
    count=1 benchtime=100ms ready_count=1 ready_benchtime=3x go_ready_benchtime=1x ;;
--check)
    count=1 benchtime=1x ready_count=1 ready_benchtime=1x go_ready_benchtime=1x ;;
*)
    echo "usage: bash bench/run.sh [--quick|--check]" >&2
    exit 2 ;;
esac

out=${BENCH_OUT:-$(mktemp -d /tmp/vitte-bench.XXXXXX)}
mkdir -p "$out"

machine() {
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- cores: $(nproc), CPU: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
    echo "- memory: $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "- $(go version)"
    echo "- load average (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)"
}

echo "== machine, before"
machine | tee "$out/machine.txt"

echo "== peers"
bash build-peers.sh

# The wasmtime engine's rows need cgo (gcc): BENCH_TAGS= leaves them out.
tags=()
[ -n "${BENCH_TAGS-wasmtime}" ] && tags=(-tags "${BENCH_TAGS-wasmtime}")

echo "== go vet, and the harness's own tests (${tags[*]:-no tags})"
go vet "${tags[@]}" ./...
go test "${tags[@]}" -count=1 ./cmd/... .

echo "== benchmarks ($mode: $count rounds, -benchtime $benchtime; ready: $ready_count rounds, -benchtime $ready_benchtime, $go_ready_benchtime for Go)"
# One test binary, run once per round: every round measures every system
# once, so the runs of one system are spread over the whole run like those
# of its baseline, and a burst of load on a shared machine does not land on
# one system only (go test -count would run each benchmark's runs in a row).
go test "${tags[@]}" -c -o "$out/bench.test" .
: >"$out/calls.txt"
: >"$out/ready.txt"
bench() {
    "$out/bench.test" -test.run '^$' -test.benchmem -test.timeout 60m -test.bench "$@"
}
for round in $(seq "$count"); do
    echo "== round $round of $count"
    bench '^Benchmark(Call|Scaling|Metering)$' -test.benchtime "$benchtime" | tee -a "$out/calls.txt"
    if [ "$round" -le "$ready_count" ]; then
        bench '^BenchmarkReady$/^(c|vitte|extism|process)-' -test.benchtime "$ready_benchtime" | tee -a "$out/ready.txt"
        bench '^BenchmarkReady$/^go-' -test.benchtime "$go_ready_benchtime" | tee -a "$out/ready.txt"
    fi
done

echo "== machine, after"
echo "- load average after (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt"

go run ./cmd/benchtable "$out/calls.txt" "$out/ready.txt" >"$out/table.md"
echo
cat "$out/machine.txt"
cat "$out/table.md"
echo
echo "run.sh: raw results and the table in $out"
