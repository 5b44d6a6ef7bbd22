package runtime

import (
	"sync"
	"time"
)

// rateLimit is a token bucket that counts what it drops.
type rateLimit struct {
	mu      sync.Mutex
	rate    float64 // tokens a second; <= 0: unlimited
	burst   float64
	tokens  float64
	last    time.Time
	dropped int
	now     func() time.Time
}

func newRateLimit(rate float64, burst int) *rateLimit {
	return &rateLimit{rate: rate, burst: float64(burst), tokens: float64(burst), now: time.Now}
}

// allow takes a token. When it does, it also returns how many were dropped
// since the last one it allowed (to be reported then); when it does not, how
// many have been dropped so far in this flood, this one included.
func (r *rateLimit) allow() (ok bool, dropped int) {
	if r.rate <= 0 {
		return true, 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if !r.last.IsZero() {
		r.tokens = min(r.burst, r.tokens+now.Sub(r.last).Seconds()*r.rate)
	}
	r.last = now
	if r.tokens < 1 {
		r.dropped++
		return false, r.dropped
	}
	r.tokens--
	d := r.dropped
	r.dropped = 0
	return true, d
}

// flush returns and resets the count of dropped messages not yet reported.
func (r *rateLimit) flush() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.dropped
	r.dropped = 0
	return d
}
