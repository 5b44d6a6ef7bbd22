package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
)

// pool holds a plugin's instances: at most max exist at once (idle, busy
// or being created), and the pool keeps at least warm of them initialised
// (instantiated, _initialize and on-load run), replacing in the background
// an instance that is discarded. Calls take the most recently used idle
// instance; a call finding none creates one if it may, and otherwise waits
// for one to be released.
//
// The fast path, an idle instance taken and given back, is two short
// critical sections and allocates nothing.
type pool struct {
	create func(context.Context) (*instance, error)
	logger *slog.Logger
	max    int
	warm   int

	mu      sync.Mutex
	idle    []*instance
	live    int // instances idle, busy or being created
	busy    int // calls holding an instance
	closed  bool
	waiters []chan struct{} // calls waiting for an instance, oldest first
	drained chan struct{}   // closed when closed && busy == 0
	bg      sync.WaitGroup  // background creations
	bgCtx   context.Context // cancelled by close, so that it need not wait for them
	stopBg  context.CancelFunc

	// What Plugin.Stats reports, counted under mu by release, which takes
	// it anyway: two atomic additions less per call.
	calls, failures, fuel uint64
}

func newPool(max, warm int, create func(context.Context) (*instance, error), logger *slog.Logger) *pool {
	ctx, cancel := context.WithCancel(context.Background())
	return &pool{create: create, logger: logger, max: max, warm: min(warm, max), drained: make(chan struct{}), bgCtx: ctx, stopBg: cancel}
}

// get returns an instance for one call; the caller gives it back with
// release.
func (p *pool) get(ctx context.Context) (*instance, error) {
	p.mu.Lock()
	for {
		if p.closed {
			p.mu.Unlock()
			return nil, ErrClosed
		}
		if n := len(p.idle); n > 0 {
			inst := p.idle[n-1]
			p.idle[n-1] = nil
			p.idle = p.idle[:n-1]
			p.busy++
			p.mu.Unlock()
			return inst, nil
		}
		if p.live < p.max {
			p.live++
			p.busy++
			p.mu.Unlock()
			inst, err := p.create(ctx)
			if err != nil {
				p.mu.Lock()
				p.live--
				p.busy--
				p.wakeLocked()
				p.mu.Unlock()
				// Like Load's (load.go), a failure that is not the guest's
				// is the module's or the grants'.
				return nil, withKind(instantiateKind(err), fmt.Errorf("new instance: %w", err))
			}
			return inst, nil
		}
		ch := make(chan struct{})
		p.waiters = append(p.waiters, ch)
		p.mu.Unlock()
		select {
		case <-ch:
			p.mu.Lock()
		case <-ctx.Done():
			p.mu.Lock()
			if !p.removeWaiterLocked(ch) {
				// Woken and cancelled at once: pass the wake-up on.
				p.wakeLocked()
			}
			p.mu.Unlock()
			return nil, fmt.Errorf("%w: waiting for an instance: %w", ErrCanceled, context.Cause(ctx))
		}
	}
}

// wakeLocked wakes the oldest waiting call, if any.
func (p *pool) wakeLocked() {
	if len(p.waiters) == 0 {
		return
	}
	ch := p.waiters[0]
	p.waiters[0] = nil
	p.waiters = p.waiters[1:]
	close(ch)
}

func (p *pool) removeWaiterLocked(ch chan struct{}) bool {
	for i, w := range p.waiters {
		if w == ch {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			return true
		}
	}
	return false
}

// release gives back an instance taken with get, after a call that used
// fuel and failed or not. A healthy instance goes back to the idle list;
// an unhealthy one is closed and, if the pool is below its warm size,
// replaced in the background.
func (p *pool) release(inst *instance, healthy bool, fuel uint64, failed bool) {
	p.mu.Lock()
	p.busy--
	p.calls++
	p.fuel += fuel
	if failed {
		p.failures++
	}
	if healthy {
		// Even when closing: close collects the idle instances once no
		// call is in flight, and unloads them.
		p.idle = append(p.idle, inst)
		p.wakeLocked()
	} else {
		p.live--
		p.replaceLocked()
		p.wakeLocked()
	}
	if p.closed && p.busy == 0 {
		p.closeDrainedLocked()
	}
	p.mu.Unlock()
	if !healthy {
		_ = inst.inst.Close(context.Background())
	}
}

func (p *pool) logUnload(err error) {
	if err != nil {
		p.logger.Warn("unload instance", slog.Any("error", err))
	}
}

// put adds an instance made outside get: the first one, at load.
func (p *pool) put(inst *instance) {
	p.mu.Lock()
	p.live++
	p.idle = append(p.idle, inst)
	p.mu.Unlock()
}

// fill starts background creations until warm instances exist.
func (p *pool) fill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.live < p.warm && !p.closed {
		if !p.replaceLocked() {
			return
		}
	}
}

// replaceLocked starts one background creation if the pool is below its
// warm size. A creation that fails is logged; the pool then creates on
// demand, so the failure reaches a caller as its call's error.
func (p *pool) replaceLocked() bool {
	if p.closed || p.live >= p.warm {
		return false
	}
	p.live++
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		inst, err := p.create(p.bgCtx)
		p.mu.Lock()
		if err != nil {
			p.live--
			p.wakeLocked()
			closed := p.closed
			p.mu.Unlock()
			if !closed {
				p.logger.Warn("prepare a warm instance", slog.Any("error", err))
			}
			return
		}
		if p.closed {
			p.live--
			p.mu.Unlock()
			p.logUnload(inst.unload(context.Background()))
			return
		}
		p.idle = append(p.idle, inst)
		p.wakeLocked()
		p.mu.Unlock()
	}()
	return true
}

func (p *pool) closeDrainedLocked() {
	select {
	case <-p.drained:
	default:
		close(p.drained)
	}
}

// close refuses new calls, waits for the calls in flight and the
// background creations, and returns the idle instances. If ctx ends
// first, it calls cancel, which makes the calls in flight stop, waits for
// them to end all the same (they no longer run guest code past a fuel
// quantum, nor wait in a host function), and reports it with cut.
func (p *pool) close(ctx context.Context, cancel func(context.Context)) (idle []*instance, cut bool) {
	p.mu.Lock()
	p.closed = true
	for len(p.waiters) > 0 {
		p.wakeLocked()
	}
	if p.busy == 0 {
		p.closeDrainedLocked()
	}
	p.mu.Unlock()
	select {
	case <-p.drained: // first: nothing is cut short when nothing runs
	default:
		select {
		case <-p.drained:
		case <-ctx.Done():
			cancel(ctx)
			cut = true
			<-p.drained
		}
	}
	p.stopBg() // an on-load in the background need not run to its end
	p.bg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	idle = p.idle
	p.idle = nil
	p.live -= len(idle)
	return idle, cut
}

// stats returns the calls counted by release and the instances.
func (p *pool) stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{Calls: p.calls, Failures: p.failures, Fuel: p.fuel, Instances: p.live, Idle: len(p.idle)}
}
