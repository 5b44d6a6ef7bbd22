// Command benchtable turns the output of the bench module's benchmarks
// (go test -bench, any -count) into Markdown tables, one per family: for
// every workload and system the median time, the spread of the runs
// around it (benchstat's confidence interval, golang.org/x/perf/benchmath,
// assuming nothing about the distribution), the ratio to raw wazero's
// median on the same workload in the same run, and the median B/op and
// allocs/op.
//
// Benchmark names must be Benchmark<Family>/<workload>/<system>; the
// baseline of a workload is its "wazero" system. BenchmarkScaling also gets
// calls per second (1e9 / median ns/op).
//
// Usage: go run ./cmd/benchtable [file...]   (standard input without files)
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

type row struct {
	family, workload, system string
	ns, bytes, allocs        []float64
}

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, files []string) error {
	var rows []*row
	index := map[string]*row{}
	read := func(r io.Reader, name string) error {
		br := benchfmt.NewReader(r, name)
		for br.Scan() {
			res, ok := br.Result().(*benchfmt.Result)
			if !ok {
				continue // syntax errors and unit lines: go test prints other lines too
			}
			family, workload, system, err := split(res.Name)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			key := family + "/" + workload + "/" + system
			rw := index[key]
			if rw == nil {
				rw = &row{family: family, workload: workload, system: system}
				index[key] = rw
				rows = append(rows, rw)
			}
			if v, ok := res.Value("sec/op"); ok {
				rw.ns = append(rw.ns, v*1e9)
			}
			if v, ok := res.Value("B/op"); ok {
				rw.bytes = append(rw.bytes, v)
			}
			if v, ok := res.Value("allocs/op"); ok {
				rw.allocs = append(rw.allocs, v)
			}
		}
		return br.Err()
	}
	if len(files) == 0 {
		if err := read(os.Stdin, "stdin"); err != nil {
			return err
		}
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return err
		}
		err = read(fh, f)
		fh.Close()
		if err != nil {
			return err
		}
	}
	if len(rows) == 0 {
		return errors.New("no benchmark results")
	}
	family := ""
	for _, r := range rows {
		if r.family != family {
			family = r.family
			scaling := family == "Scaling"
			fmt.Fprintf(w, "\n### Benchmark%s\n\n", family)
			if scaling {
				fmt.Fprintln(w, "| workload | system | median | ± | vs raw wazero | calls/s | B/op | allocs/op | runs |")
				fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|")
			} else {
				fmt.Fprintln(w, "| workload | system | median | ± | vs raw wazero | B/op | allocs/op | runs |")
				fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|")
			}
		}
		if len(r.ns) == 0 {
			continue
		}
		med, spread := summary(r.ns)
		ratio := "—"
		if base := index[r.family+"/"+r.workload+"/wazero"]; base != nil && len(base.ns) > 0 {
			b, _ := summary(base.ns)
			ratio = fmt.Sprintf("%.2f×", med/b)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |", r.workload, r.system, human(med), spread, ratio)
		if r.family == "Scaling" {
			fmt.Fprintf(w, " %.0f |", 1e9/med)
		}
		fmt.Fprintf(w, " %s | %s | %d |\n", count(r.bytes), count(r.allocs), len(r.ns))
	}
	return nil
}

// split cuts Family/workload/system-GOMAXPROCS.
func split(name benchfmt.Name) (family, workload, system string, err error) {
	base, parts := name.Parts()
	var subs []string
	for _, p := range parts {
		if bytes.HasPrefix(p, []byte("/")) {
			subs = append(subs, string(p[1:]))
		}
	}
	if len(subs) < 2 {
		return "", "", "", fmt.Errorf("benchmark %s: not Benchmark<Family>/<workload>/<system>", name)
	}
	return string(base), strings.Join(subs[:len(subs)-1], "/"), subs[len(subs)-1], nil
}

// summary is the median of xs and the half-width of its confidence
// interval (95% when there are runs enough, else the range of the runs),
// as a percentage of the median.
func summary(xs []float64) (median float64, spread string) {
	thresholds := benchmath.DefaultThresholds
	s := benchmath.AssumeNothing.Summary(benchmath.NewSample(xs, &thresholds), 0.95)
	if len(xs) < 2 || s.Center == 0 {
		return s.Center, "—"
	}
	lo, hi := s.Lo, s.Hi
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		// Too few runs for the interval: the range of the runs.
		lo, hi = slices.Min(xs), slices.Max(xs)
	}
	half := math.Max(hi-s.Center, s.Center-lo)
	return s.Center, fmt.Sprintf("%.0f%%", 100*half/s.Center)
}

func count(xs []float64) string {
	if len(xs) == 0 {
		return ""
	}
	thresholds := benchmath.DefaultThresholds
	return fmt.Sprintf("%.0f", benchmath.AssumeNothing.Summary(benchmath.NewSample(xs, &thresholds), 0.95).Center)
}

func human(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.1f ns", ns)
}
