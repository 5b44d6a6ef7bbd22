package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// outcome names each error class of Call, wrapped as Call wraps it; a
// denial does not hide the class of the failure it caused.
func TestOutcome(t *testing.T) {
	call := func(err error) error { return &CallError{Plugin: "p", Function: "f", Err: err} }
	tests := []struct {
		err  error
		want string
	}{
		{nil, OutcomeOK},
		{call(&GuestError{Message: "no"}), OutcomeGuestError},
		{call(&deniedError{&GuestError{Message: "no"}}), OutcomeGuestError},
		{call(&TrapError{Message: "wasm error: unreachable"}), OutcomeTrap},
		{call(fmt.Errorf("%w after 1s (limits.timeout)", ErrTimeout)), OutcomeTimeout},
		{call(fmt.Errorf("%w: the call needed more than limits.fuel 10", ErrFuel)), OutcomeFuel},
		{call(fmt.Errorf("%w: %w", ErrCanceled, context.Canceled)), OutcomeCanceled},
		{call(fmt.Errorf("%w: bad tag", ErrContract)), OutcomeContract},
		{call(&QuarantineError{Plugin: "p"}), OutcomeQuarantined},
		{call(ErrNoHandler), OutcomeNoHandler},
		{call(ErrClosed), OutcomeClosed},
		{call(errors.New("something else")), OutcomeError},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, outcome(tt.err), "%v", tt.err)
	}
}

// BenchmarkTelemetryOff measures what the telemetry hook costs a call
// when no provider is set: the same plugin is called as Call does
// (Plugin.call with no fuelOut: the hook checks Runtime.tel) and with a
// fuelOut (as the telemetry calls it: the check is skipped), in
// interleaved batches, each first every other time; x is their ratio
// (hook/no hook), which should be 1 within noise.
func BenchmarkTelemetryOff(b *testing.B) {
	const batch = 256
	ctx := context.Background()
	rt, err := New(ctx, NewConfig().WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close(ctx)
	p, err := rt.Load(ctx, filepath.Join("..", "testdata", "wasm", "hello-c"))
	if err != nil {
		b.Fatal(err)
	}
	input := []byte("a")
	var fuel uint64
	var out []byte
	var hook, direct time.Duration
	withHook := func() {
		for range batch {
			if out, err = p.call(ctx, "empty", input, out[:0], true, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	without := func() {
		for range batch {
			if out, err = p.call(ctx, "empty", input, out[:0], true, &fuel); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	odd := false
	for b.Loop() {
		// Each goes first every other iteration: the second batch of a
		// pair runs on warmer caches.
		first, second := withHook, without
		if odd {
			first, second = without, withHook
		}
		t0 := time.Now()
		first()
		t1 := time.Now()
		second()
		t2 := time.Now()
		if odd {
			direct, hook = direct+t1.Sub(t0), hook+t2.Sub(t1)
		} else {
			hook, direct = hook+t1.Sub(t0), direct+t2.Sub(t1)
		}
		odd = !odd
	}
	n := float64(b.N) * float64(batch)
	b.ReportMetric(float64(hook.Nanoseconds())/n, "hook-ns/call")
	b.ReportMetric(float64(direct.Nanoseconds())/n, "nohook-ns/call")
	b.ReportMetric(float64(hook)/float64(direct), "x")
}
