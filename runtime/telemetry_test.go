package runtime_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// telemetry is an SDK tracer and meter recording in memory.
type telemetry struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
}

func newTelemetry(t *testing.T, cfg runtime.Config) (runtime.Config, *telemetry) {
	tel := &telemetry{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tel.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	return cfg.WithTracerProvider(tp).WithMeterProvider(mp), tel
}

// ended returns the ended spans named name.
func (tel *telemetry) ended(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range tel.spans.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// attrs returns a span's attributes by key.
func attrs(kvs []attribute.KeyValue) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

// sum returns the value of the counter name at the attributes want (a
// subset of the point's), summed over the matching points.
func (tel *telemetry) sum(t *testing.T, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	var total int64
	for _, sm := range rm.ScopeMetrics {
		require.Equal(t, runtime.Instrumentation, sm.Scope.Name)
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					if hasAll(p.Attributes, want) {
						total += p.Value
					}
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					if hasAll(p.Attributes, want) {
						total += int64(p.Count)
					}
				}
			default:
				t.Fatalf("metric %s: unexpected data %T", name, m.Data)
			}
		}
	}
	return total
}

func hasAll(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// Each call has a span and is counted, with the plugin, the handler, the
// fuel and the outcome of its error class; a quarantine is an event of the
// call that tripped it, and counted.
func TestTelemetry_Calls(t *testing.T) {
	ctx := context.Background()
	cfg, tel := newTelemetry(t, runtime.NewConfig().WithQuarantine(2, time.Hour))
	e := newRuntime(t, cfg)
	p, err := e.rt.Load(ctx, fixture("hostile"))
	require.NoError(t, err)
	defer p.Close(ctx)
	hello, err := e.rt.Load(ctx, fixture("hello-c"))
	require.NoError(t, err)
	defer hello.Close(ctx)

	canceled, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	calls := []struct {
		p       *runtime.Plugin
		ctx     context.Context
		handler string
		outcome string
	}{
		{p, ctx, "ok", runtime.OutcomeOK},
		{p, ctx, "bad-tag", runtime.OutcomeContract},
		{p, ctx, "no-such-handler", runtime.OutcomeNoHandler},
		{hello, ctx, "fail", runtime.OutcomeGuestError},
		{p, canceled, "loop", runtime.OutcomeCanceled},
		{p, ctx, "trap", runtime.OutcomeTrap},
		{p, ctx, "trap", runtime.OutcomeTrap}, // the second trap quarantines hostile
		{p, ctx, "ok", runtime.OutcomeQuarantined},
	}
	for _, c := range calls {
		_, _ = c.p.Call(c.ctx, c.handler, []byte("x"))
	}
	spans := tel.ended("vitte.call")
	require.Len(t, spans, len(calls))
	for i, c := range calls {
		s := spans[i]
		a := attrs(s.Attributes())
		assert.Equal(t, c.p.Name(), a[runtime.AttrPlugin].AsString(), "call %d", i)
		assert.Equal(t, c.p.Version(), a[runtime.AttrVersion].AsString(), "call %d", i)
		assert.Equal(t, c.handler, a[runtime.AttrHandler].AsString(), "call %d", i)
		assert.Equal(t, c.outcome, a[runtime.AttrOutcome].AsString(), "call %d %s", i, c.handler)
		if c.outcome == runtime.OutcomeOK {
			assert.Equal(t, codes.Unset, s.Status().Code)
			assert.Positive(t, a[runtime.AttrFuel].AsInt64(), "an ok call used fuel")
		} else {
			assert.Equal(t, codes.Error, s.Status().Code, "call %d %s", i, c.handler)
			assert.Contains(t, s.Status().Description, `call plugin "`+c.p.Name()+`" function "`+c.handler+`"`)
		}
		assert.Equal(t, trace.SpanKindInternal, s.SpanKind())
	}
	var events []string
	for _, ev := range spans[6].Events() {
		events = append(events, ev.Name)
	}
	assert.Equal(t, []string{"vitte.quarantined"}, events, "the second trap tripped the breaker")
	assert.Empty(t, spans[5].Events())

	plugin := runtime.AttrPlugin.String("hostile")
	assert.EqualValues(t, 2, tel.sum(t, "vitte.calls", plugin, runtime.AttrOutcome.String(runtime.OutcomeTrap), runtime.AttrHandler.String("trap")))
	assert.EqualValues(t, 1, tel.sum(t, "vitte.calls", plugin, runtime.AttrOutcome.String(runtime.OutcomeQuarantined)))
	assert.EqualValues(t, 7, tel.sum(t, "vitte.calls", plugin))
	assert.EqualValues(t, 1, tel.sum(t, "vitte.calls", plugin, runtime.AttrOutcome.String(runtime.OutcomeCanceled), runtime.AttrHandler.String("loop")))
	assert.EqualValues(t, 1, tel.sum(t, "vitte.calls", runtime.AttrPlugin.String("hello-c"), runtime.AttrOutcome.String(runtime.OutcomeGuestError)))
	assert.EqualValues(t, 8, tel.sum(t, "vitte.call.duration"), "one duration per call")
	assert.EqualValues(t, 1, tel.sum(t, "vitte.quarantines", plugin))
	assert.Equal(t, a(spans[0])[runtime.AttrFuel].AsInt64(), tel.sum(t, "vitte.fuel", plugin, runtime.AttrHandler.String("ok")),
		"the fuel counter adds up the calls' fuel")
}

func a(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value { return attrs(s.Attributes()) }

// A capability denied during a call is an event of the call's span, with
// what was denied and why, and is counted; the call's span says so.
func TestTelemetry_Denials(t *testing.T) {
	ctx := context.Background()
	cfg, tel := newTelemetry(t, runtime.NewConfig())
	p, _, _ := loadCaps(t, cfg, capabilities.NewGrants())

	_, err := p.Call(ctx, "host", []byte("test.echo"))
	require.ErrorIs(t, err, runtime.ErrPermission)
	spans := tel.ended("vitte.call")
	require.Len(t, spans, 1)
	assert.True(t, a(spans[0])[runtime.AttrDenied].AsBool())
	require.Len(t, spans[0].Events(), 1)
	ev := spans[0].Events()[0]
	assert.Equal(t, "vitte.denied", ev.Name)
	ea := attrs(ev.Attributes)
	assert.Equal(t, "host", ea[runtime.AttrKind].AsString())
	assert.Equal(t, "test.echo", ea[runtime.AttrResource].AsString())
	assert.Equal(t, "no host grant matches", ea[runtime.AttrRule].AsString())
	assert.Equal(t, "host", ea[runtime.AttrHandler].AsString())

	plugin := runtime.AttrPlugin.String("caps-c")
	host := runtime.AttrKind.String("host")
	assert.EqualValues(t, 2, tel.sum(t, "vitte.denials", plugin, host), "test.* requested, not granted, at load; test.echo in the call")
	assert.EqualValues(t, 1, tel.sum(t, "vitte.denials", plugin, host, runtime.AttrOp.String("request")))
	// caps-c requests environment variables, a network host and a mount
	// that were not granted: each is denied at load, and counted.
	assert.Positive(t, tel.sum(t, "vitte.denials", plugin, runtime.AttrOp.String("request")))
}

// A load has a span and is counted, ok or not; a reload has a span with
// the versions before and after, parenting the new version's load, and is
// counted by outcome.
func TestTelemetry_LoadsAndReloads(t *testing.T) {
	ctx := context.Background()
	cfg, tel := newTelemetry(t, runtime.NewConfig())
	e := newRuntime(t, cfg)
	_, err := e.rt.Load(ctx, fixture("bad-import"))
	require.Error(t, err)

	dir := filepath.Join(t.TempDir(), "hello")
	writeVersion(t, dir, good, 0)
	rl, err := e.rt.LoadReloadable(ctx, dir, runtime.NewLoadConfig().WithGrants(helloGrants))
	require.NoError(t, err)
	defer rl.Close(ctx)
	writeVersion(t, dir, good, 1)
	require.NoError(t, rl.Reload(ctx))
	writeVersion(t, dir, onLoadTrap, 2)
	require.Error(t, rl.Reload(ctx))

	loads := tel.ended("vitte.load")
	require.Len(t, loads, 4)
	wantLoads := []struct{ plugin, version, outcome string }{
		{"bad-import", "0.1.0", runtime.OutcomeError},
		{"hello-c", "1.0.0", runtime.OutcomeOK},
		{"hello-c", "1.0.1", runtime.OutcomeOK},
		{"hello-c", "1.0.2", runtime.OutcomeError},
	}
	for i, w := range wantLoads {
		la := a(loads[i])
		assert.Equal(t, w.plugin, la[runtime.AttrPlugin].AsString(), "load %d", i)
		assert.Equal(t, w.version, la[runtime.AttrVersion].AsString(), "load %d", i)
		assert.Equal(t, w.outcome, la[runtime.AttrOutcome].AsString(), "load %d", i)
	}
	assert.Equal(t, codes.Error, loads[3].Status().Code)
	assert.Contains(t, loads[3].Status().Description, "on-load")

	reloads := tel.ended("vitte.reload")
	require.Len(t, reloads, 2)
	ok, refused := a(reloads[0]), a(reloads[1])
	assert.Equal(t, "hello-c", ok[runtime.AttrPlugin].AsString())
	assert.Equal(t, "1.0.0", ok[runtime.AttrPrevious].AsString())
	assert.Equal(t, "1.0.1", ok[runtime.AttrVersion].AsString())
	assert.Equal(t, runtime.OutcomeOK, ok[runtime.AttrOutcome].AsString())
	assert.Equal(t, "1.0.1", refused[runtime.AttrVersion].AsString(), "the version that keeps serving")
	assert.Equal(t, runtime.OutcomeError, refused[runtime.AttrOutcome].AsString())
	assert.Equal(t, reloads[0].SpanContext().SpanID(), loads[2].Parent().SpanID(), "the reload's span parents the new version's load")
	assert.Equal(t, reloads[1].SpanContext().SpanID(), loads[3].Parent().SpanID())

	assert.EqualValues(t, 1, tel.sum(t, "vitte.loads", runtime.AttrPlugin.String("bad-import"), runtime.AttrOutcome.String(runtime.OutcomeError)))
	assert.EqualValues(t, 2, tel.sum(t, "vitte.loads", runtime.AttrPlugin.String("hello-c"), runtime.AttrOutcome.String(runtime.OutcomeOK)))
	assert.EqualValues(t, 4, tel.sum(t, "vitte.load.duration"))
	assert.EqualValues(t, 1, tel.sum(t, "vitte.reloads", runtime.AttrPlugin.String("hello-c"), runtime.AttrOutcome.String(runtime.OutcomeOK)))
	assert.EqualValues(t, 1, tel.sum(t, "vitte.reloads", runtime.AttrPlugin.String("hello-c"), runtime.AttrOutcome.String(runtime.OutcomeError)))
}

// A host function runs inside the call's span: what it traces is a child
// of the call.
func TestTelemetry_HostFuncSeesCallSpan(t *testing.T) {
	ctx := context.Background()
	cfg, tel := newTelemetry(t, runtime.NewConfig())
	p, _, e := loadCaps(t, cfg, capabilities.NewGrants().WithHostCall("test.*"))
	var inHost trace.SpanContext
	e.rt.RegisterHostFunc("test.echo", func(ctx context.Context, b []byte) ([]byte, error) {
		inHost = trace.SpanContextFromContext(ctx)
		return b, nil
	})
	_, err := p.Call(ctx, "host", []byte("test.echo"))
	require.NoError(t, err)
	spans := tel.ended("vitte.call")
	require.Len(t, spans, 1)
	assert.Equal(t, spans[0].SpanContext().SpanID(), inHost.SpanID())
}

// With only a meter provider, calls are counted and no span is made; with
// only a tracer provider, spans are made.
func TestTelemetry_OneProvider(t *testing.T) {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	e := newRuntime(t, runtime.NewConfig().WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	p, err := e.rt.Load(ctx, fixture("hello-c"))
	require.NoError(t, err)
	defer p.Close(ctx)
	_, err = p.Call(ctx, "greet", []byte("x"))
	require.NoError(t, err)
	tel := &telemetry{reader: reader}
	assert.EqualValues(t, 1, tel.sum(t, "vitte.calls", runtime.AttrOutcome.String(runtime.OutcomeOK)))

	rec := tracetest.NewSpanRecorder()
	e = newRuntime(t, runtime.NewConfig().WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))))
	p, err = e.rt.Load(ctx, fixture("hello-c"))
	require.NoError(t, err)
	defer p.Close(ctx)
	_, err = p.Call(ctx, "greet", []byte("x"))
	require.NoError(t, err)
	names := []string{}
	for _, s := range rec.Ended() {
		names = append(names, s.Name())
	}
	assert.Equal(t, []string{"vitte.load", "vitte.call"}, names)
}

// BenchmarkCallTelemetry calls hello-c's handler on a runtime without
// telemetry (off) and on one tracing and measuring into the SDK (on), in
// interleaved batches, and reports both times per call and their ratio
// (on/off). Without providers, a call costs what it cost before
// telemetry: compare BenchmarkCallRatio's x with main's.
func BenchmarkCallTelemetry(b *testing.B) {
	const batch = 256
	ctx := context.Background()
	for _, s := range benchSizes[:2] {
		b.Run(s.name, func(b *testing.B) {
			input := bytes.Repeat([]byte("a"), s.size)
			off := benchHelloC(b, runtime.NewConfig())
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder()), sdktrace.WithSampler(sdktrace.NeverSample()))
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			b.Cleanup(func() { _ = tp.Shutdown(ctx); _ = mp.Shutdown(ctx) })
			on := benchHelloC(b, runtime.NewConfig().WithTracerProvider(tp).WithMeterProvider(mp))
			var out []byte
			var err error
			var toff, ton time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				for range batch {
					if out, err = off.AppendCall(ctx, out[:0], s.handler, input); err != nil {
						b.Fatal(err)
					}
				}
				t1 := time.Now()
				for range batch {
					if out, err = on.AppendCall(ctx, out[:0], s.handler, input); err != nil {
						b.Fatal(err)
					}
				}
				ton += time.Since(t1)
				toff += t1.Sub(t0)
			}
			n := float64(b.N) * float64(batch)
			b.ReportMetric(float64(toff.Nanoseconds())/n, "off-ns/call")
			b.ReportMetric(float64(ton.Nanoseconds())/n, "on-ns/call")
			b.ReportMetric(float64(ton)/float64(toff), "x")
		})
	}
}

// A call stopped by its limits has the outcome of its error class, fuel
// or timeout, and the limit is counted among the denials.
func TestTelemetry_LimitOutcomes(t *testing.T) {
	ctx := context.Background()
	loop := wasmgen.Plugin(handler("spin", wasmgen.Cat(wasmgen.Loop, wasmgen.I32Const(512)))).Bytes()
	for _, tt := range []struct{ limit, outcome, resource string }{
		{"fuel = 100000", runtime.OutcomeFuel, "fuel"},
		{`timeout = "100ms"`, runtime.OutcomeTimeout, "timeout"},
	} {
		t.Run(tt.outcome, func(t *testing.T) {
			cfg, tel := newTelemetry(t, runtime.NewConfig())
			e := newRuntime(t, cfg)
			p, err := e.rt.Load(ctx, writePlugin(t, basicManifest+"\n[limits]\n"+tt.limit+"\n", loop))
			require.NoError(t, err)
			defer p.Close(ctx)
			_, err = p.Call(ctx, "spin", nil)
			require.Error(t, err)
			spans := tel.ended("vitte.call")
			require.Len(t, spans, 1)
			assert.Equal(t, tt.outcome, a(spans[0])[runtime.AttrOutcome].AsString())
			if tt.outcome == runtime.OutcomeFuel {
				assert.GreaterOrEqual(t, a(spans[0])[runtime.AttrFuel].AsInt64(), int64(100000))
			}
			assert.EqualValues(t, 1, tel.sum(t, "vitte.calls", runtime.AttrOutcome.String(tt.outcome), runtime.AttrHandler.String("spin")))
			assert.EqualValues(t, 1, tel.sum(t, "vitte.denials", runtime.AttrKind.String("limit"), runtime.AttrOp.String("call")))
		})
	}
}
