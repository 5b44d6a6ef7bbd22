package runtime

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/manifest"
)

// Instrumentation is the name of the runtime's tracer and meter.
const Instrumentation = "github.com/vitte-lang/vitte-plugin/runtime"

// The attributes of the runtime's spans and metrics.
const (
	AttrPlugin   = attribute.Key("vitte.plugin")         // the plugin's name
	AttrVersion  = attribute.Key("vitte.plugin.version") // its version
	AttrHandler  = attribute.Key("vitte.handler")        // the handler called
	AttrFuel     = attribute.Key("vitte.fuel")           // the fuel the call used
	AttrOutcome  = attribute.Key("vitte.outcome")        // Outcome* below
	AttrDenied   = attribute.Key("vitte.denied")         // a capability was denied during the call
	AttrKind     = attribute.Key("vitte.denial.kind")    // what a denial was of: fs, net, env, host, limit, ...
	AttrOp       = attribute.Key("vitte.denial.op")      // what the plugin tried
	AttrResource = attribute.Key("vitte.denial.resource")
	AttrRule     = attribute.Key("vitte.denial.rule")
	AttrPrevious = attribute.Key("vitte.plugin.previous_version") // the version a reload replaced
)

// The outcomes of a call (AttrOutcome), one for each error class of
// Plugin.Call; a load or a reload is OutcomeOK or OutcomeError.
const (
	OutcomeOK          = "ok"
	OutcomeGuestError  = "guest_error" // ErrGuest: the handler returned an error result
	OutcomeTrap        = "trap"        // ErrTrap
	OutcomeTimeout     = "timeout"     // ErrTimeout
	OutcomeFuel        = "fuel"        // ErrFuel
	OutcomeCanceled    = "canceled"    // ErrCanceled
	OutcomeContract    = "contract"    // ErrContract
	OutcomeQuarantined = "quarantined" // ErrQuarantined: refused without running
	OutcomeNoHandler   = "no_handler"  // ErrNoHandler
	OutcomeClosed      = "closed"      // ErrClosed
	OutcomeError       = "error"       // anything else
)

// WithTracerProvider makes the runtime trace with tp: a span for each
// load ("vitte.load"), call ("vitte.call") and reload ("vitte.reload"),
// with the plugin, the handler, the fuel used and the outcome as
// attributes, and span events for capability denials ("vitte.denied") and
// quarantines ("vitte.quarantined"). A call's span is in the context that
// host functions get. The default, nil, traces nothing and costs nothing.
func (c Config) WithTracerProvider(tp trace.TracerProvider) Config {
	c.tel.tp = tp
	return c
}

// WithMeterProvider makes the runtime record metrics with mp: the
// counters vitte.calls, vitte.fuel, vitte.loads, vitte.reloads,
// vitte.quarantines and vitte.denials and the histograms
// vitte.call.duration and vitte.load.duration (see docs/observability.md).
// The default, nil, records nothing and costs nothing.
func (c Config) WithMeterProvider(mp metric.MeterProvider) Config {
	c.tel.mp = mp
	return c
}

// telemetryConfig is what Config holds: the providers, either may be nil.
type telemetryConfig struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// telemetry is a runtime's tracer and instruments. A Runtime without
// providers has none (Runtime.tel is nil): each hook is one nil check.
type telemetry struct {
	tracer trace.Tracer // nil: no tracing

	calls, fuel, loads, reloads, quarantines, denials metric.Int64Counter
	callDuration, loadDuration                        metric.Float64Histogram
	metrics                                           bool

	// sets caches the attributes of a call's measurements by setKey:
	// building them costs more than recording.
	sets sync.Map
}

type setKey struct{ plugin, handler, outcome string }

// callAttrs returns the attributes of a call's measurements: with outcome
// (for vitte.calls and vitte.call.duration) or without (vitte.fuel).
func (t *telemetry) callAttrs(plugin, handler, outcome string) metric.MeasurementOption {
	if outcome == OutcomeNoHandler {
		// The name is the caller's, not one of the plugin's handlers:
		// not cached, so that the cache stays as small as the handlers.
		return metric.WithAttributes(AttrPlugin.String(plugin), AttrHandler.String(handler), AttrOutcome.String(outcome))
	}
	k := setKey{plugin, handler, outcome}
	if o, ok := t.sets.Load(k); ok {
		return o.(metric.MeasurementOption)
	}
	kvs := []attribute.KeyValue{AttrPlugin.String(plugin), AttrHandler.String(handler)}
	if outcome != "" {
		kvs = append(kvs, AttrOutcome.String(outcome))
	}
	o, _ := t.sets.LoadOrStore(k, metric.WithAttributeSet(attribute.NewSet(kvs...)))
	return o.(metric.MeasurementOption)
}

func newTelemetry(c telemetryConfig) (*telemetry, error) {
	if c.tp == nil && c.mp == nil {
		return nil, nil
	}
	t := &telemetry{}
	if c.tp != nil {
		t.tracer = c.tp.Tracer(Instrumentation)
	}
	if c.mp == nil {
		return t, nil
	}
	m := c.mp.Meter(Instrumentation)
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		ctr, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return ctr
	}
	histogram := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc))
		errs = append(errs, err)
		return h
	}
	t.calls = counter("vitte.calls", "{call}", "Handler calls, by plugin, handler and outcome.")
	t.fuel = counter("vitte.fuel", "{fuel}", "Fuel used by handler calls (about one unit a wasm instruction), by plugin and handler.")
	t.loads = counter("vitte.loads", "{load}", "Plugin loads, by plugin and outcome.")
	t.reloads = counter("vitte.reloads", "{reload}", "Reloads, by plugin and outcome (ok: swapped in; error: refused).")
	t.quarantines = counter("vitte.quarantines", "{quarantine}", "Quarantines begun, by plugin.")
	t.denials = counter("vitte.denials", "{denial}", "Capability and limit denials, by plugin, kind and operation.")
	t.callDuration = histogram("vitte.call.duration", "Duration of handler calls, by plugin, handler and outcome.")
	t.loadDuration = histogram("vitte.load.duration", "Duration of plugin loads: check, compile, instantiate, on-load.")
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	t.metrics = true
	return t, nil
}

// maxStatus bounds the error message a span's status carries: a guest's
// error result can be as long as limits.output.
const maxStatus = 1 << 10

// status returns err's message for a span's status, cut to maxStatus bytes
// of valid UTF-8.
func status(err error) string {
	msg := err.Error()
	if len(msg) > maxStatus {
		msg = strings.ToValidUTF8(msg[:maxStatus], "") + "…"
	}
	return msg
}

// outcome names the class of a call's error.
func outcome(err error) string {
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, ErrCanceled):
		return OutcomeCanceled
	case errors.Is(err, ErrTimeout):
		return OutcomeTimeout
	case errors.Is(err, ErrFuel):
		return OutcomeFuel
	case errors.Is(err, ErrContract):
		return OutcomeContract
	case errors.Is(err, ErrTrap):
		return OutcomeTrap
	case errors.Is(err, ErrGuest):
		return OutcomeGuestError
	case errors.Is(err, ErrQuarantined):
		return OutcomeQuarantined
	case errors.Is(err, ErrNoHandler):
		return OutcomeNoHandler
	case errors.Is(err, ErrClosed):
		return OutcomeClosed
	}
	return OutcomeError
}

// call is Plugin.call traced and measured.
func (t *telemetry) call(ctx context.Context, p *Plugin, name string, input, dst []byte, appendOut bool) ([]byte, error) {
	start := time.Now()
	var span trace.Span
	if t.tracer != nil {
		ctx, span = t.tracer.Start(ctx, "vitte.call", trace.WithSpanKind(trace.SpanKindInternal),
			trace.WithAttributes(AttrPlugin.String(p.Name()), AttrVersion.String(p.Version()), AttrHandler.String(name)))
	}
	quarantined := p.Quarantined() != nil
	var fuel uint64
	out, err := p.call(ctx, name, input, dst, appendOut, &fuel)
	oc := outcome(err)
	if span != nil {
		span.SetAttributes(AttrFuel.Int64(int64(fuel)), AttrOutcome.String(oc), AttrDenied.Bool(errors.Is(err, ErrPermission)))
		if q := p.Quarantined(); q != nil && !quarantined {
			span.AddEvent("vitte.quarantined", trace.WithAttributes(attribute.Int("vitte.failures", len(q.Failures))))
		}
		if err != nil {
			span.SetStatus(codes.Error, status(err))
		}
		span.End()
	}
	if t.metrics {
		attrs := t.callAttrs(p.Name(), name, oc)
		t.calls.Add(ctx, 1, attrs)
		t.callDuration.Record(ctx, time.Since(start).Seconds(), attrs)
		if fuel > 0 {
			t.fuel.Add(ctx, int64(fuel), t.callAttrs(p.Name(), name, ""))
		}
	}
	return out, err
}

// startLoad starts the span of a load; end ends it with the loaded plugin
// (nil on failure) and the load's error.
func (t *telemetry) startLoad(ctx context.Context, m *manifest.Manifest) (context.Context, func(*Plugin, error)) {
	start := time.Now()
	var span trace.Span
	if t.tracer != nil {
		ctx, span = t.tracer.Start(ctx, "vitte.load",
			trace.WithAttributes(AttrPlugin.String(m.Plugin.Name), AttrVersion.String(m.Plugin.Version)))
	}
	return ctx, func(p *Plugin, err error) {
		oc := OutcomeOK
		if err != nil {
			oc = OutcomeError
		}
		if span != nil {
			span.SetAttributes(AttrOutcome.String(oc))
			if err != nil {
				span.SetStatus(codes.Error, status(err))
			}
			span.End()
		}
		if t.metrics {
			attrs := metric.WithAttributes(AttrPlugin.String(m.Plugin.Name), AttrOutcome.String(oc))
			t.loads.Add(ctx, 1, attrs)
			t.loadDuration.Record(ctx, time.Since(start).Seconds(), attrs)
		}
	}
}

// startReload starts the span of a reload of rl; end ends it with the
// reload's error.
func (t *telemetry) startReload(ctx context.Context, rl *Reloadable) (context.Context, func(error)) {
	if t.tracer == nil {
		return ctx, func(error) {}
	}
	prev := rl.Current().Version()
	ctx, span := t.tracer.Start(ctx, "vitte.reload",
		trace.WithAttributes(AttrPlugin.String(rl.name), AttrPrevious.String(prev)))
	return ctx, func(err error) {
		oc := OutcomeOK
		if err != nil {
			oc = OutcomeError
			span.SetStatus(codes.Error, status(err))
		}
		span.SetAttributes(AttrVersion.String(rl.Current().Version()), AttrOutcome.String(oc))
		span.End()
	}
}

// event counts a runtime event: reloads, refused reloads, quarantines.
func (t *telemetry) event(e Event) {
	if !t.metrics {
		return
	}
	ctx := context.Background()
	switch e.Kind {
	case EventReloaded:
		t.reloads.Add(ctx, 1, metric.WithAttributes(AttrPlugin.String(e.Plugin), AttrOutcome.String(OutcomeOK)))
	case EventReloadRefused:
		t.reloads.Add(ctx, 1, metric.WithAttributes(AttrPlugin.String(e.Plugin), AttrOutcome.String(OutcomeError)))
	case EventQuarantined:
		t.quarantines.Add(ctx, 1, metric.WithAttributes(AttrPlugin.String(e.Plugin)))
	}
}

// denied counts a denial: a capability or a limit.
func (t *telemetry) denied(plugin string, e capabilities.Event) {
	if t.metrics {
		t.denials.Add(context.Background(), 1, metric.WithAttributes(AttrPlugin.String(plugin),
			AttrKind.String(string(e.Kind)), AttrOp.String(e.Op)))
	}
}

// deniedInCall adds a denial during the call st to the call's span.
func (t *telemetry) deniedInCall(st *callState, e capabilities.Event) {
	if st == nil || st.ctx == nil || t.tracer == nil {
		return
	}
	if span := trace.SpanFromContext(st.ctx); span.IsRecording() {
		span.AddEvent("vitte.denied", trace.WithAttributes(AttrKind.String(string(e.Kind)), AttrOp.String(e.Op),
			AttrResource.String(e.Resource), AttrRule.String(e.Rule), AttrHandler.String(e.Function)))
	}
}
