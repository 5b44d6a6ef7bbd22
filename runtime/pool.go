package runtime

import (
	"context"
	"fmt"
	"sync"
)

// pool holds a plugin's instances. At most cap(slots) calls run at once,
// and there are never more instances than that.
type pool struct {
	slots chan struct{}
	mu    sync.Mutex
	idle  []*instance
}

func newPool(n int) *pool {
	return &pool{slots: make(chan struct{}, n)}
}

// get takes a slot, then an idle instance or a new one made by create.
func (p *pool) get(ctx context.Context, create func(context.Context) (*instance, error)) (*instance, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for an instance: %w", ErrCanceled, context.Cause(ctx))
	}
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		inst := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return inst, nil
	}
	p.mu.Unlock()
	inst, err := create(ctx)
	if err != nil {
		<-p.slots
		return nil, fmt.Errorf("new instance: %w", err)
	}
	return inst, nil
}

// put adds an instance made outside get (the first one, at load).
func (p *pool) put(inst *instance) {
	p.mu.Lock()
	p.idle = append(p.idle, inst)
	p.mu.Unlock()
}

// release gives back the slot, and the instance if it is healthy; an
// unhealthy one is closed.
func (p *pool) release(ctx context.Context, inst *instance, healthy bool) {
	if healthy {
		p.put(inst)
	} else {
		_ = inst.inst.Close(context.WithoutCancel(ctx))
	}
	<-p.slots
}

// drain removes and returns the idle instances.
func (p *pool) drain() []*instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	idle := p.idle
	p.idle = nil
	return idle
}
