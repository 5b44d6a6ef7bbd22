package capabilities

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Kind is the kind of capability an audit event is about.
type Kind string

// The capability kinds.
const (
	KindFS    Kind = "fs"
	KindNet   Kind = "net"
	KindHost  Kind = "host"
	KindEnv   Kind = "env"
	KindLimit Kind = "limit"
	// KindCall events record completed handler calls, with the fuel they
	// used; the runtime sends them only when allowed decisions are
	// audited too.
	KindCall Kind = "call"
)

// Event records one capability decision.
type Event struct {
	Time         time.Time `json:"time"`
	Plugin       string    `json:"plugin"`
	Version      string    `json:"version"`
	ModuleSHA256 string    `json:"module_sha256"`
	Kind         Kind      `json:"kind"`
	// Resource is what was asked for: a guest path, a URL, a host-call
	// name, a variable name, a limit.
	Resource string `json:"resource"`
	// Op is what was to be done with it: "open", "write", "rename",
	// "request", "call", "read", "grow".
	Op string `json:"op,omitempty"`
	// Rule is the rule that decided ("no net grant matches", "read-only
	// mount /data", "denied by 10.0.0.0/8").
	Rule string `json:"rule"`
	// Function is the handler or hook during which it happened.
	Function string `json:"function,omitempty"`
	Allowed  bool   `json:"allowed"`
	// Fuel is the fuel the call had used when the event was recorded, for
	// limit and call events.
	Fuel uint64 `json:"fuel,omitempty"`
}

// Auditor receives audit events. It is called from the goroutine of the
// plugin call; it must be safe for concurrent use and should not block.
type Auditor func(Event)

// JSONLines returns an Auditor that writes each event as one JSON line to
// w, serialising concurrent writes.
func JSONLines(w io.Writer) Auditor {
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	return func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(e)
	}
}
