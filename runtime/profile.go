package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"

	"github.com/vitte-lang/vitte-plugin/internal/meter"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
)

// Profile is a CPU profile of guest code, in fuel: each time a call has
// used its quantum of fuel (about a millisecond of guest code; see
// RATIONALE.md "How is a runaway guest stopped?"), the guest's call stack
// is sampled, weighted by the fuel used since the call's previous sample.
// Write it with WriteTo for `go tool pprof`. It is safe for concurrent
// use; one Profile may serve several runtimes.
//
// Samples are taken where the metering code checks the fuel: at loop
// headers and in functions that loop, so a function that neither loops
// nor calls one that does is folded into its caller; a call that uses
// less than a quantum leaves no sample. Profiling needs the wazero
// engine (wasmtime's C API gives no guest stack inside a host function).
type Profile struct {
	mu      sync.Mutex
	start   time.Time
	samples map[string]*profileSample // by plugin, handler and stack
	last    map[*callState]uint64     // the fuel a call had used at its last sample
}

type profileSample struct {
	plugin, handler string
	stack           []string // innermost first
	count, fuel     int64
}

// NewProfile returns an empty profile. Give it to Config.WithProfile.
func NewProfile() *Profile {
	return &Profile{start: time.Now(), samples: map[string]*profileSample{}, last: map[*callState]uint64{}}
}

// WithProfile samples the guest code of every call into p (see Profile).
// New fails with ErrEngineUnavailable on an engine that cannot profile.
// The default, nil, samples nothing and costs nothing.
func (c Config) WithProfile(p *Profile) Config {
	c.profile = p
	return c
}

// errNoProfiling is New's error when the engine cannot profile.
var errNoProfiling = errors.New("profiling needs the wazero engine")

// checkProfiling fails when p is set and eng cannot profile.
func checkProfiling(p *Profile, eng engine.Engine) error {
	if p == nil {
		return nil
	}
	if pr, ok := eng.(engine.Profiler); ok && pr.Profiles() {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrEngineUnavailable, errNoProfiling)
}

// profiled sets the Stack of the metering's host function to p.sample
// when the runtime profiles.
func (r *Runtime) profiled(hosts []engine.HostFunc) []engine.HostFunc {
	if r.cfg.profile == nil {
		return hosts
	}
	for i, h := range hosts {
		if h.Module == meter.ImportModule && h.Name == meter.ImportName {
			hosts[i].Stack = r.cfg.profile.sample
		}
	}
	return hosts
}

// sample records the guest's stack when the call of ctx ran out of its
// quantum (the Stack of the metering's out_of_fuel host function).
func (p *Profile) sample(ctx context.Context, frames []engine.Frame) {
	st := stateFrom(ctx)
	if st == nil || st.inst == nil || len(frames) == 0 {
		return
	}
	counter := int64(st.inst.fuel.Get()) // at or below 0: the quantum is used
	used := uint64(max(int64(st.given)-counter, 0))
	stack := make([]string, len(frames))
	for i, f := range frames {
		stack[i] = guestName(f.Function)
		if stack[i] == "" {
			stack[i] = "<unnamed>"
		}
	}
	plugin := st.inst.p.Name()
	key := plugin + "\x00" + st.fn + "\x00" + strings.Join(stack, "\x00")
	p.mu.Lock()
	defer p.mu.Unlock()
	prev := p.last[st]
	if st.refills == 0 || prev > used {
		prev = 0 // the call's first sample
	}
	p.last[st] = used
	s := p.samples[key]
	if s == nil {
		s = &profileSample{plugin: plugin, handler: st.fn, stack: stack}
		p.samples[key] = s
	}
	s.count++
	s.fuel += int64(used - prev)
}

// WriteTo writes the profile in pprof's format (gzipped protocol
// buffers): sample types samples/count and fuel/units (the default), a
// function per guest function (its file the plugin), and each sample
// labelled with its plugin and handler.
func (p *Profile) WriteTo(w io.Writer) (int64, error) {
	p.mu.Lock()
	prof := &profile.Profile{
		SampleType:        []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "fuel", Unit: "units"}},
		DefaultSampleType: "fuel",
		PeriodType:        &profile.ValueType{Type: "fuel", Unit: "units"},
		Period:            fuelQuantum,
		TimeNanos:         p.start.UnixNano(),
		DurationNanos:     time.Since(p.start).Nanoseconds(),
	}
	funcs := map[[2]string]*profile.Function{}
	locs := map[[2]string]*profile.Location{}
	location := func(plugin, fn string) *profile.Location {
		k := [2]string{plugin, fn}
		if l, ok := locs[k]; ok {
			return l
		}
		f := &profile.Function{ID: uint64(len(funcs) + 1), Name: fn, SystemName: fn, Filename: plugin}
		funcs[k] = f
		prof.Function = append(prof.Function, f)
		l := &profile.Location{ID: uint64(len(locs) + 1), Line: []profile.Line{{Function: f}}}
		locs[k] = l
		prof.Location = append(prof.Location, l)
		return l
	}
	keys := make([]string, 0, len(p.samples))
	for k := range p.samples {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the same profile writes the same bytes
	for _, k := range keys {
		s := p.samples[k]
		ps := &profile.Sample{
			Value: []int64{s.count, s.fuel},
			Label: map[string][]string{"plugin": {s.plugin}, "handler": {s.handler}},
		}
		for _, fn := range s.stack {
			ps.Location = append(ps.Location, location(s.plugin, fn))
		}
		prof.Sample = append(prof.Sample, ps)
	}
	p.mu.Unlock()
	cw := &countingWriter{w: w}
	err := prof.Write(cw)
	return cw.n, err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}
