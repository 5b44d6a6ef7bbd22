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
// when no provider is set: the same plugin is called through Plugin.call
// (the hook: one nil check) and through Plugin.run (the call without it,
// the code before telemetry) in interleaved batches; x is their ratio
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
	var out []byte
	var hook, direct time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		for range batch {
			if out, err = p.call(ctx, "empty", input, out[:0], true); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		for range batch {
			if out, err = p.run(ctx, "empty", input, out[:0], true, nil); err != nil {
				b.Fatal(err)
			}
		}
		direct += time.Since(t1)
		hook += t1.Sub(t0)
	}
	n := float64(b.N) * float64(batch)
	b.ReportMetric(float64(hook.Nanoseconds())/n, "hook-ns/call")
	b.ReportMetric(float64(direct.Nanoseconds())/n, "nohook-ns/call")
	b.ReportMetric(float64(hook)/float64(direct), "x")
}
