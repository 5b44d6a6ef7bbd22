package runtime

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Failures further apart than the window do not quarantine; the same
// number within it does.
func TestQuarantine_Window(t *testing.T) {
	ctx := context.Background()
	rt, err := New(ctx, NewConfig().WithQuarantine(3, time.Minute))
	require.NoError(t, err)
	defer rt.Close(ctx)
	p, err := rt.Load(ctx, "../testdata/wasm/hostile")
	require.NoError(t, err)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.breaker.now = func() time.Time { return now }
	trap := func() {
		t.Helper()
		_, err := p.Call(ctx, "trap", nil)
		require.ErrorIs(t, err, ErrTrap)
	}

	trap()
	now = now.Add(40 * time.Second)
	trap()
	now = now.Add(40 * time.Second)
	trap() // 3 failures over 80s: not within a minute
	assert.Nil(t, p.Quarantined())
	now = now.Add(10 * time.Second)
	trap() // the last 3 are within 50s
	q := p.Quarantined()
	require.NotNil(t, q)
	assert.Equal(t, now, q.Since)
	assert.Equal(t, now.Add(-50*time.Second), q.Failures[0].Time)
	assert.Len(t, p.breaker.fails, 0, "history is not kept while quarantined")
	_, err = p.Call(ctx, "ok", nil)
	assert.True(t, errors.Is(err, ErrQuarantined))
}
