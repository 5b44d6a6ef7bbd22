package registry

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A quarantine is recorded in the index, seen by another Registry value
// after Refresh, cleared by Release, and by installing a version.
func TestRegistry_SetQuarantine(t *testing.T) {
	pkgs, dir := t.TempDir(), t.TempDir()
	r := openTest(t, dir)
	install(t, r, pack(t, pkgs, spec{name: "hello", version: "1.0.0"}), InstallOptions{Verify: trusting})
	var events []Event
	defer r.Subscribe(func(e Event) { events = append(events, e) })()

	since := time.Date(2026, 11, 25, 12, 0, 0, 0, time.FixedZone("x", 3600))
	q := &Quarantine{Since: since, Version: "1.0.0", Reason: "greet: trap: wasm error: unreachable"}
	require.NoError(t, r.SetQuarantine("hello", q))
	require.NoError(t, r.SetQuarantine("hello", q), "the same again writes nothing")
	require.Len(t, events, 1)
	assert.Equal(t, EventQuarantined, events[0].Kind)

	other := openTest(t, dir)
	e, ok := other.Get("hello")
	require.True(t, ok)
	require.NotNil(t, e.Quarantine)
	assert.Equal(t, since.UTC(), e.Quarantine.Since)
	assert.Equal(t, q.Reason, e.Quarantine.Reason)

	err := r.SetQuarantine("hello", &Quarantine{Since: since, Version: "0.9.0"})
	assert.ErrorIs(t, err, ErrConflict)
	assert.ErrorContains(t, err, `quarantine plugin "hello": `)
	assert.ErrorIs(t, r.SetQuarantine("nope", q), ErrNotFound)
	_, err = r.Release("nope")
	assert.ErrorIs(t, err, ErrNotFound)

	released, err := other.Release("hello")
	require.NoError(t, err)
	assert.True(t, released)
	released, err = other.Release("hello")
	require.NoError(t, err)
	assert.False(t, released, "released already")
	require.NoError(t, r.Refresh())
	e, _ = r.Get("hello")
	assert.Nil(t, e.Quarantine)

	require.NoError(t, r.SetQuarantine("hello", q))
	install(t, r, pack(t, pkgs, spec{name: "hello", version: "1.1.0"}), InstallOptions{Verify: trusting})
	e, _ = r.Get("hello")
	assert.Nil(t, e.Quarantine, "a new version is not quarantined")
}

func TestCut(t *testing.T) {
	long := strings.Repeat("é", MaxQuarantineReason)
	c := cut(long, MaxQuarantineReason)
	assert.LessOrEqual(t, len(c), MaxQuarantineReason)
	assert.True(t, utf8.ValidString(c))
	assert.True(t, strings.HasSuffix(c, " […]"))
	assert.Equal(t, "short", cut("short", MaxQuarantineReason))
}
