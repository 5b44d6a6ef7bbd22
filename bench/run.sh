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
# The raw go test output is kept in $BENCH_OUT (default: a new directory
# under /tmp, printed at the end): benchstat reads it too, e.g.
#   go run golang.org/x/perf/cmd/benchstat -filter .unit:sec/op $BENCH_OUT/calls.txt
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

mode=${1:-full}
case $mode in
full)
    # -count runs of each benchmark; the families run in turn, so the
    # systems of one workload are measured close together.
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

echo "== go vet, and the harness's own tests"
go vet ./...
go test -count=1 ./cmd/... .

echo "== benchmarks ($mode: -count $count -benchtime $benchtime; ready: -count $ready_count -benchtime $ready_benchtime, $go_ready_benchtime for Go)"
go test -run '^$' -bench '^Benchmark(Call|Scaling|Metering)$' -benchmem \
    -count "$count" -benchtime "$benchtime" -timeout 60m . | tee "$out/calls.txt"
go test -run '^$' -bench '^BenchmarkReady$/^(c|vitte|extism|process)-' -benchmem \
    -count "$ready_count" -benchtime "$ready_benchtime" -timeout 60m . | tee "$out/ready.txt"
go test -run '^$' -bench '^BenchmarkReady$/^go-' -benchmem \
    -count "$ready_count" -benchtime "$go_ready_benchtime" -timeout 60m . | tee -a "$out/ready.txt"

echo "== machine, after"
echo "- load average after (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt"

go run ./cmd/benchtable "$out/calls.txt" "$out/ready.txt" >"$out/table.md"
echo
cat "$out/machine.txt"
cat "$out/table.md"
echo
echo "run.sh: raw results and the table in $out"
