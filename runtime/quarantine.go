package runtime

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the circuit breaker (Config.WithQuarantine).
const (
	// DefaultQuarantineFailures traps or timeouts ...
	DefaultQuarantineFailures = 5
	// ... within DefaultQuarantineWindow quarantine a plugin.
	DefaultQuarantineWindow = time.Minute
)

// ErrQuarantined: the plugin is quarantined after repeated traps or
// timeouts; *QuarantineError says why. A call fails with it at once,
// without running guest code, until the plugin is released
// (Plugin.Release) or replaced by a reload.
var ErrQuarantined = errors.New("plugin is quarantined")

// Failure is one call that counted towards a quarantine: a trap, a
// timeout or fuel exhaustion.
type Failure struct {
	Time     time.Time
	Function string
	Err      error
}

// QuarantineError is the error of a call to a quarantined plugin, and the
// reason of the quarantine: the failures that tripped the breaker.
type QuarantineError struct {
	Plugin, Version string
	// Since is when the plugin was quarantined.
	Since time.Time
	// Window is the window the failures fell within.
	Window time.Duration
	// Failures are the traps and timeouts that tripped the breaker, oldest
	// first; none when the plugin was quarantined by Plugin.Quarantine.
	Failures []Failure
	// Cause is the reason given to Plugin.Quarantine ("" when the breaker
	// tripped).
	Cause string
}

func (e *QuarantineError) Error() string {
	var b strings.Builder
	if len(e.Failures) == 0 {
		fmt.Fprintf(&b, "plugin %q %s is quarantined since %s: %s; release it or load a fixed version",
			e.Plugin, e.Version, e.Since.UTC().Format(time.RFC3339), e.Cause)
		return b.String()
	}
	fmt.Fprintf(&b, "plugin %q %s is quarantined since %s after %d traps or timeouts within %s",
		e.Plugin, e.Version, e.Since.UTC().Format(time.RFC3339), len(e.Failures), e.Window)
	if n := len(e.Failures); n > 0 {
		last := e.Failures[n-1]
		fmt.Fprintf(&b, " (last: %s: %v)", last.Function, last.Err)
	}
	b.WriteString("; release it or load a fixed version")
	return b.String()
}

// Is makes errors.Is(err, ErrQuarantined) true.
func (e *QuarantineError) Is(target error) bool { return target == ErrQuarantined }

// Reason is the failures on one line each, "time function: error", or
// the Cause, for logs and the registry.
func (e *QuarantineError) Reason() string {
	if len(e.Failures) == 0 {
		return e.Cause
	}
	lines := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		lines[i] = fmt.Sprintf("%s %s: %v", f.Time.UTC().Format(time.RFC3339Nano), f.Function, f.Err)
	}
	return strings.Join(lines, "\n")
}

// WithQuarantine sets the circuit breaker of every plugin: failures traps
// or timeouts of handler calls within window quarantine the plugin (default
// DefaultQuarantineFailures within DefaultQuarantineWindow). Failures of 0
// or less disable quarantine. Only traps (ErrTrap), timeouts (ErrTimeout)
// and fuel exhaustion (ErrFuel) count: a handler's error result, a
// contract violation, a cancelled call or a denied capability do not.
//
// See docs/reload.md "Quarantine".
func (c Config) WithQuarantine(failures int, window time.Duration) Config {
	if failures <= 0 {
		failures = -1
	}
	c.quarantineFailures, c.quarantineWindow = failures, window
	return c
}

// WithEvents sends the runtime's events (reloads, refused reloads,
// quarantines, releases) to fn, besides the logger. fn is called from the
// goroutine where the event happens (a Call, a Reload, a Release): it must
// return quickly and must not call back into the plugin.
func (c Config) WithEvents(fn func(Event)) Config {
	c.events = fn
	return c
}

func (c Config) quarantine() (int, time.Duration) {
	n, w := c.quarantineFailures, c.quarantineWindow
	if n == 0 {
		n = DefaultQuarantineFailures
	}
	if w <= 0 {
		w = DefaultQuarantineWindow
	}
	return n, w
}

// breaker is a plugin's circuit breaker. Its zero value is ready.
type breaker struct {
	tripped atomic.Pointer[QuarantineError]
	mu      sync.Mutex
	fails   []Failure // the last failures, at most the threshold, oldest first
	// notify, when set, also gets the plugin's events (Reloadable).
	notify atomic.Pointer[func(Event)]
	now    func() time.Time // tests fix it; nil is time.Now
}

func (b *breaker) clock() time.Time {
	if b.now != nil {
		return b.now()
	}
	return time.Now()
}

// checkQuarantine is the breaker's hook at the top of Plugin.Call: a
// quarantined plugin fails fast.
func (p *Plugin) checkQuarantine() error {
	if q := p.breaker.tripped.Load(); q != nil {
		return q
	}
	return nil
}

// recordCall is the breaker's hook at the end of Plugin.Call: it counts
// traps, timeouts and fuel exhaustion, and quarantines the plugin at the
// threshold.
func (p *Plugin) recordCall(fn string, err error) {
	if err == nil || !(errors.Is(err, ErrTrap) || errors.Is(err, ErrTimeout) || errors.Is(err, ErrFuel)) {
		return
	}
	n, window := p.rt.cfg.quarantine()
	if n < 0 {
		return
	}
	b := &p.breaker
	b.mu.Lock()
	if b.tripped.Load() != nil {
		b.mu.Unlock()
		return
	}
	now := b.clock()
	b.fails = append(b.fails, Failure{Time: now, Function: fn, Err: err})
	if len(b.fails) > n {
		b.fails = slices.Delete(b.fails, 0, len(b.fails)-n)
	}
	if len(b.fails) < n || now.Sub(b.fails[0].Time) > window {
		b.mu.Unlock()
		return
	}
	q := &QuarantineError{Plugin: p.Name(), Version: p.Version(), Since: now, Window: window, Failures: slices.Clone(b.fails)}
	b.fails = nil
	b.tripped.Store(q)
	b.mu.Unlock()
	p.logger.Error("plugin quarantined", slog.Int("failures", len(q.Failures)), slog.Duration("window", window),
		slog.String("last_function", fn), slog.Any("last_error", err))
	p.emit(Event{Kind: EventQuarantined, Err: q})
}

// Quarantined returns why the plugin is quarantined, or nil when it is
// not.
func (p *Plugin) Quarantined() *QuarantineError { return p.breaker.tripped.Load() }

// Quarantine quarantines the plugin now, for reason (an operator's
// decision, or a quarantine recorded by an earlier run of the host), as
// if its breaker had tripped. It returns the quarantine in force: the
// existing one if the plugin was quarantined already.
func (p *Plugin) Quarantine(reason string) *QuarantineError {
	b := &p.breaker
	b.mu.Lock()
	if q := b.tripped.Load(); q != nil {
		b.mu.Unlock()
		return q
	}
	_, window := p.rt.cfg.quarantine()
	q := &QuarantineError{Plugin: p.Name(), Version: p.Version(), Since: b.clock(), Window: window, Cause: reason}
	b.fails = nil
	b.tripped.Store(q)
	b.mu.Unlock()
	p.logger.Error("plugin quarantined", slog.String("reason", reason))
	p.emit(Event{Kind: EventQuarantined, Err: q})
	return q
}

// Release lifts the plugin's quarantine and forgets its past failures; it
// reports whether the plugin was quarantined. reason says who or what
// released it ("operator", "vitte plugin release"); it goes to the event
// and the log.
func (p *Plugin) Release(reason string) bool {
	b := &p.breaker
	b.mu.Lock()
	q := b.tripped.Swap(nil)
	b.fails = nil
	b.mu.Unlock()
	if q == nil {
		return false
	}
	p.logger.Info("plugin released from quarantine", slog.String("reason", reason))
	p.emit(Event{Kind: EventReleased, Reason: reason, Err: q})
	return true
}

// emit sends e to the runtime's and the plugin's event handlers, with its
// time, plugin and version filled in when unset.
func (p *Plugin) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.Plugin == "" {
		e.Plugin, e.Version = p.Name(), p.Version()
	}
	if t := p.rt.tel; t != nil {
		t.event(e)
	}
	if fn := p.rt.cfg.events; fn != nil {
		fn(e)
	}
	if fn := p.breaker.notify.Load(); fn != nil {
		(*fn)(e)
	}
}
