package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/vitte-lang/vitte-plugin/bench
BenchmarkCall/empty-0B/wazero-2         	 1000	       100 ns/op	       0 B/op	       0 allocs/op
BenchmarkCall/empty-0B/vitte-2          	 1000	       300 ns/op	      16 B/op	       1 allocs/op
BenchmarkCall/empty-0B/wazero-2         	 1000	       120 ns/op	       0 B/op	       0 allocs/op
BenchmarkCall/empty-0B/vitte-2          	 1000	       200 ns/op	      16 B/op	       1 allocs/op
BenchmarkCall/empty-0B/wazero-2         	 1000	       110 ns/op	       0 B/op	       0 allocs/op
BenchmarkCall/empty-0B/vitte-2          	 1000	       220 ns/op	      16 B/op	       1 allocs/op
BenchmarkCall/count-vowels-1MiB/extism-2	   10	   5000000 ns/op	 209.72 MB/s	 2000 B/op	      30 allocs/op
BenchmarkScaling/count-vowels-1KiB-g2/wazero-2 	 1000	      2000 ns/op	  500000 calls/s	       0 B/op	       0 allocs/op
BenchmarkReady/c-cold/vitte             	   3	 150000000 ns/op
PASS
ok  	github.com/vitte-lang/vitte-plugin/bench	12.3s
`

func TestRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bench.txt")
	require.NoError(t, os.WriteFile(path, []byte(sample), 0o644))
	var out bytes.Buffer
	require.NoError(t, run(&out, []string{path}))
	for _, want := range []string{
		"### BenchmarkCall\n",
		"| empty-0B | wazero | 110.0 ns | 9% | 1.00× | 0 | 0 | 3 |\n", // median 110, range 100..120
		"| empty-0B | vitte | 220.0 ns | 36% | 2.00× | 16 | 1 | 3 |\n",
		"| count-vowels-1MiB | extism | 5.00 ms | — | — | 2000 | 30 | 1 |\n", // no wazero row: no ratio
		"### BenchmarkScaling\n",
		"| count-vowels-1KiB-g2 | wazero | 2.00 µs | — | 1.00× | 500000 | 0 | 0 | 1 |\n",
		"| c-cold | vitte | 150.00 ms | — | — |  |  | 1 |\n",
	} {
		assert.Contains(t, out.String(), want)
	}
}

func TestRun_Errors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, input, err string }{
		{"no results", "PASS\n", "no benchmark results"},
		{"no system", "BenchmarkCall-2 10 100 ns/op\n", "not Benchmark<Family>/<workload>/<system>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			require.NoError(t, os.WriteFile(path, []byte(tc.input), 0o644))
			err := run(&bytes.Buffer{}, []string{path})
			require.ErrorContains(t, err, tc.err)
		})
	}
	require.ErrorContains(t, run(&bytes.Buffer{}, []string{filepath.Join(dir, "missing")}), "missing")
}
