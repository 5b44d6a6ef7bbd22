package runtime_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"

	"github.com/google/pprof/profile"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

// Trace every load and call with OpenTelemetry: here into the SDK's
// in-memory recorder; an application gives its own TracerProvider (and a
// MeterProvider for the metrics).
func ExampleConfig_WithTracerProvider() {
	ctx := context.Background()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(ctx)
	rt, err := runtime.New(ctx, runtime.NewConfig().WithTracerProvider(tp).WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	p, err := rt.Load(ctx, "../testdata/wasm/hello-c")
	if err != nil {
		panic(err)
	}
	_, _ = p.Call(ctx, "greet", []byte("world"))
	_, _ = p.Call(ctx, "fail", []byte("boom"))
	for _, s := range spans.Ended() {
		line := s.Name()
		for _, kv := range s.Attributes() {
			if kv.Key == runtime.AttrHandler || kv.Key == runtime.AttrOutcome {
				line += " " + string(kv.Key) + "=" + kv.Value.Emit()
			}
		}
		fmt.Println(line)
	}
	// Output:
	// vitte.load vitte.outcome=ok
	// vitte.call vitte.handler=greet vitte.outcome=ok
	// vitte.call vitte.handler=fail vitte.outcome=guest_error
}

// Profile the guest code of a call, and read the profile back as go tool
// pprof would.
func ExampleNewProfile() {
	ctx := context.Background()
	prof := runtime.NewProfile()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithProfile(prof).WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	p, err := rt.Load(ctx, "../testdata/wasm/bench-c")
	if err != nil {
		panic(err)
	}
	if _, err := p.Call(ctx, "sha256", make([]byte, 1<<20)); err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	if _, err := prof.WriteTo(&buf); err != nil { // a file for go tool pprof
		panic(err)
	}
	pp, err := profile.Parse(&buf)
	if err != nil {
		panic(err)
	}
	hot := pp.Sample[0]
	for _, s := range pp.Sample {
		if s.Value[1] > hot.Value[1] {
			hot = s
		}
	}
	fmt.Println("hottest:", hot.Location[0].Line[0].Function.Name, "in", hot.Label["handler"][0])
	// Output:
	// hottest: sha256_block in sha256
}
