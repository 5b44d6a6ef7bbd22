package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/internal/meter"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
)

// The work a guest asks of the host (WASI functions, host.log, ...) runs in
// Go, where the metering code counts nothing: each host function charges
// it to the call's fuel before doing it, and checks the call's deadline
// and context (see the cost model in internal/meter's host.go and
// RATIONALE.md "How is the work of host functions metered?").

// DefaultStdioLimit is how many bytes one call (on-load and on-unload
// included, each on its own) may write to stdout, and as many to stderr,
// unless Config.WithStdioLimit changes it.
const DefaultStdioLimit = 4 << 20

// errStdioLimit is what the guest's write past the stdio limit fails with
// (the guest sees EIO); the call goes on.
var errStdioLimit = errors.New("stdio limit reached")

// charge is InstanceConfig.Charge, and what this package's host functions
// call before their work: it stops the guest (with ErrInterrupted, then
// reported as ErrTimeout or ErrCanceled) when the call's context is done,
// or when the fuel runs out and the call's deadline passed, and otherwise
// subtracts fuel from the counter, refilling it as outOfFuel does, within
// the call's budget (past it the call fails with ErrFuel). The work is
// done only when charge returns nil.
func (i *instance) charge(ctx context.Context, fuel uint64) error {
	st := i.current
	if st == nil {
		return errors.New("host function called outside a plugin call")
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", engine.ErrInterrupted, context.Cause(ctx))
	}
	if fuel <= i.credit {
		i.credit -= fuel
		return nil
	}
	fuel -= i.credit
	i.credit = 0
	// Costs past any budget, or past a counter's range, fail or saturate
	// here rather than wrap.
	const maxCharge = math.MaxInt64 / 4
	fuel = min(fuel, maxCharge)
	c := int64(i.fuel.Get())
	left := c - int64(fuel)
	if left >= 0 {
		take := min(c, int64(fuel)+hostAdvance)
		i.fuel.Set(uint64(c - take))
		i.credit = uint64(take) - fuel
		return nil
	}
	// The deadline is looked at when the quantum runs out, as outOfFuel
	// does, not at every call: reading the clock costs about as much as a
	// small host call on some machines (260 ns, kvm-clock), and the fuel of
	// a quantum bounds the work done meanwhile.
	if st.expired() {
		return fmt.Errorf("%w: %w", engine.ErrInterrupted, context.DeadlineExceeded)
	}
	// Refill as many quanta as the debt needs (out_of_fuel would give them
	// one at a time), within the budget.
	need := uint64(-left)
	give := (need + fuelQuantum - 1) / fuelQuantum * fuelQuantum
	if st.budget > 0 {
		if st.given >= st.budget || need > st.budget-st.given {
			// The call is charged what it asked for: it used more than
			// its budget.
			i.fuel.Set(uint64(left))
			st.hostErr = fmt.Errorf("%w: the call needed more than limits.fuel %d", ErrFuel, st.budget)
			return st.hostErr
		}
		give = min(give, st.budget-st.given)
	}
	st.given += give
	st.refills += (give + fuelQuantum - 1) / fuelQuantum
	i.fuel.Set(uint64(left + int64(give)))
	return nil
}

// hostAdvance is how much fuel charge takes from the counter ahead, when
// the counter has it, for the host calls that follow: reading and writing
// the counter through the engine took two thirds of charge (about 25 ns
// a host call). The advance is the instance's credit, given back to the
// counter when the guest runs out (outOfFuel) and when the call ends
// (spent), so the fuel counted stays exact.
const hostAdvance = fuelQuantum / 16

// settle gives the credit back to the fuel counter.
func (i *instance) settle() {
	if i.credit > 0 {
		i.fuel.Set(i.fuel.Get() + i.credit)
		i.credit = 0
	}
}

// stdio is an instance's stdout or stderr: it passes the guest's writes on
// to the runtime's writer, up to Config.WithStdioLimit bytes a call.
// A write that would go past it is refused whole, and audited once a
// call; the guest's write fails (EIO), its call goes on.
type stdio struct {
	i    *instance
	fd   int    // 0: stdout, 1: stderr
	name string // "stdout", "stderr"
	w    io.Writer
}

func (s *stdio) Write(b []byte) (int, error) {
	st := s.i.current
	if st == nil {
		return 0, errors.New("write outside a plugin call")
	}
	p := s.i.p
	limit := p.rt.cfg.stdioLimit
	n := &st.stdio[s.fd]
	if uint64(len(b)) > limit-*n { // *n <= limit
		if !st.stdioRefused[s.fd] {
			st.stdioRefused[s.fd] = true
			p.audit(capabilities.Event{Kind: capabilities.KindLimit, Resource: s.name, Op: "write", Function: st.fn,
				Rule: fmt.Sprintf("%s limit %d bytes a call: write of %d bytes after %d refused", s.name, limit, len(b), *n)})
		}
		return 0, fmt.Errorf("%s: %w (%d bytes a call)", s.name, errStdioLimit, limit)
	}
	*n += uint64(len(b))
	return s.w.Write(b)
}

// bytesFuel is the fuel of n more bytes handled by a host function whose
// call is already charged.
func bytesFuel(n uint64) uint64 { return meter.HostFuel(n) - meter.HostCallFuel }
