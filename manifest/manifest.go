// Package manifest implements plugin.toml v1 (docs/spec/manifest-v1.md): it
// parses the manifest every plugin carries, checks it strictly and reports
// every problem it finds at once, each with its file, line, column and key.
//
// [Parse] is the front door:
//
//	m, err := manifest.Parse("hello/plugin.toml", data)
//	if err != nil {
//		return err // every problem, one per line: "hello/plugin.toml:3:10: plugin.kind: ..."
//	}
//
// # Strictness
//
// An unknown key, a value of the wrong type, a missing required key, a
// duplicate key and a malformed value are all errors; nothing is guessed or
// silently dropped. Only [config] and [dependencies] take keys of the
// plugin's choosing, and [exports.<name>] takes names of handlers. The
// returned error is an [*Error] holding one [Problem] per finding, in file
// order.
//
// # Hostile input
//
// A manifest comes from a plugin, and a plugin is not trusted. Parse refuses
// files larger than [MaxFileSize], checks that every string is valid UTF-8,
// free of control characters and of bounded length, quotes (and cuts) any
// value it repeats in an error, and never panics.
//
// # What a manifest does not decide
//
// [Capabilities] is a request, not a grant: the host intersects it with what
// the user allows. Whether the handlers named in [exports] exist is checked
// when the module is loaded, not here.
package manifest

import (
	"fmt"
	"time"

	"github.com/Masterminds/semver/v3"
)

// FileName is the name of the manifest at the root of a plugin.
const FileName = "plugin.toml"

// MaxFileSize is the size of the largest manifest [Parse] accepts.
const MaxFileSize = 1 << 20

// Defaults of [Limits], used for keys absent from [limits].
const (
	DefaultMemory  Size = 64 << 20
	DefaultTimeout      = 10 * time.Second
	DefaultOutput  Size = 16 << 20
)

// ABI is the only plugin ABI major version this package accepts, and the
// default of [Plugin.ABI].
const ABI = "1"

// Kind is the language a plugin is written in, which decides how the host
// loads it.
type Kind string

// Plugin kinds. All but [KindPython] ship a WebAssembly module; a python
// plugin ships its entry script, run by a WebAssembly interpreter.
const (
	KindWasm   Kind = "wasm"
	KindC      Kind = "c"
	KindGo     Kind = "go"
	KindRust   Kind = "rust"
	KindVitte  Kind = "vitte"
	KindPython Kind = "python"
)

// kinds lists every Kind, in the order of the spec.
var kinds = []Kind{KindWasm, KindC, KindGo, KindRust, KindVitte, KindPython}

// valid reports whether k is one of the six kinds.
func (k Kind) valid() bool {
	for _, kk := range kinds {
		if k == kk {
			return true
		}
	}
	return false
}

// Mode is the access a plugin asks for on a guest directory.
type Mode string

// Access modes of an [FSRequest].
const (
	ReadOnly  Mode = "ro"
	ReadWrite Mode = "rw"
)

// Manifest is a parsed and valid plugin.toml.
//
// The maps are never nil after [Parse]. A Manifest built in Go can be checked
// with [Manifest.Validate].
type Manifest struct {
	// Plugin is the [plugin] table.
	Plugin Plugin
	// Capabilities is the [capabilities] table: what the plugin asks for.
	Capabilities Capabilities
	// Limits is the [limits] table, with defaults for absent keys.
	Limits Limits
	// Config is the [config] table: strings the guest reads through
	// host.config-get.
	Config map[string]string
	// Dependencies is the [dependencies] table, keyed by plugin name: plugins
	// that must be installed and loaded first.
	Dependencies map[string]Dependency
	// Exports holds the [exports.<name>] tables, keyed by handler name.
	Exports map[string]Export
}

// Plugin is the [plugin] table.
type Plugin struct {
	// Name matches ^[a-z][a-z0-9-]{0,63}$.
	Name string
	// Version is the version as written, a strict semantic version 2.0.0
	// ("1.2.3", "0.1.0-rc.1+build.5", never "v1.2" or "1.2").
	Version string
	// Kind is the language of the plugin.
	Kind Kind
	// Module is the path of the module inside the plugin: relative,
	// slash-separated and clean, ending in ".wasm", or for [KindPython] the
	// entry script, ending in ".py".
	Module string
	// Description is optional free text.
	Description string
	// Authors is optional, typically "Name <email>".
	Authors []string
	// License is an optional SPDX license expression, like
	// "MIT OR Apache-2.0". Only its syntax is checked.
	License string
	// Homepage is empty or an absolute http or https URL.
	Homepage string
	// ABI is the plugin ABI major version, "1" (see [ABI]).
	ABI string
}

// Capabilities is the [capabilities] table: what the plugin asks for. An
// absent or empty list asks for nothing.
type Capabilities struct {
	// FS lists the guest directories the plugin wants. No path is "/", and
	// none is inside another.
	FS []FSRequest
	// Net lists host patterns: "api.example.com", "*.example.org:8443",
	// "10.0.0.0/8:80", "[2001:db8::1]:443". See [ParseNetPattern].
	Net []string
	// Host lists names of host calls: "compiler.ast", or "studio.*" where a
	// last "*" stands for one or more segments.
	Host []string
	// Env lists the environment variables the plugin may read.
	Env []string
}

// FSRequest is one entry of capabilities.fs.
type FSRequest struct {
	// Path is an absolute, clean guest path like "/data".
	Path string
	// Mode is [ReadOnly] or [ReadWrite].
	Mode Mode
}

// Limits is the [limits] table. A host may lower a limit, never raise it
// past its own ceiling.
type Limits struct {
	// Memory is the largest linear memory, a whole number of 64KiB wasm
	// pages, at most 4GiB. Default [DefaultMemory].
	Memory Size
	// Timeout is the wall-clock limit of one call, on-load included.
	// Default [DefaultTimeout].
	Timeout time.Duration
	// Output is the largest result or host-call payload. Default
	// [DefaultOutput].
	Output Size
	// Fuel is the CPU budget of one call, on-load included, in units of
	// metered guest code (about one wasm instruction each): a call that
	// needs more fails, at the same point on every run and every engine.
	// Zero, the default, sets no budget (the timeout still applies).
	//
	// limits.fuel extends manifest v1: it is written as a TOML integer
	// (fuel = 50_000_000) and refused by readers that do not know it.
	Fuel uint64
}

// DefaultLimits returns the limits of a manifest without a [limits] table.
func DefaultLimits() Limits {
	return Limits{Memory: DefaultMemory, Timeout: DefaultTimeout, Output: DefaultOutput}
}

// Dependency is one entry of [dependencies].
type Dependency struct {
	// Constraint is the constraint as written, like "^1.2.0".
	Constraint string
	// Constraints is Constraint parsed.
	Constraints *semver.Constraints
}

// Export is one [exports.<name>] table.
type Export struct {
	// Description is optional free text.
	Description string
}

// Parse decodes and validates a plugin.toml. filename is used only in error
// messages; it defaults to [FileName] when empty.
//
// On failure, the error is an [*Error] listing every problem found, in file
// order. A TOML syntax error stops the parsing: it is reported with what was
// found wrong before it.
func Parse(filename string, data []byte) (m *Manifest, err error) {
	if filename == "" {
		filename = FileName
	}
	if len(data) > MaxFileSize {
		return nil, &Error{Problems: []Problem{{
			File:    filename,
			Message: fmt.Sprintf("file too large (%d bytes): a manifest is at most 1MiB", len(data)),
		}}}
	}
	defer func() {
		// Parse must never panic on hostile input. A panic here is a bug: it
		// is turned into a problem so the fuzz test can find it.
		if r := recover(); r != nil {
			m, err = nil, &Error{Problems: []Problem{{File: filename, Message: fmt.Sprintf("internal error: %v", r)}}}
		}
	}()
	d := parseDocument(data)
	m = decode(d)
	if len(d.problems) > 0 {
		return nil, d.error(filename)
	}
	return m, nil
}

// Validate checks m as [Parse] checks a file, for a Manifest built or changed
// in Go. An empty [Plugin.ABI] stands for [ABI]; everything else must be set
// as Parse would have set it (see [DefaultLimits]).
//
// The error is an [*Error] whose problems have a key but no position.
func (m *Manifest) Validate() error {
	v := &validator{}
	v.manifest(m)
	if len(v.problems) == 0 {
		return nil
	}
	e := &Error{}
	for _, p := range v.problems {
		e.Problems = append(e.Problems, Problem{Key: p.key, Message: p.msg})
	}
	return e
}
