package runtime

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
)

// Errors callers branch on with errors.Is. A failed call returns a
// *CallError that wraps one of them; a failed load an error that wraps one
// of them (see the package documentation, "Errors", for which and in what
// order to test them).
var (
	// ErrGuest: the handler returned an error result; *GuestError holds
	// its message.
	ErrGuest = errors.New("plugin returned an error")
	// ErrTrap: the guest trapped (unreachable, out-of-bounds access, stack
	// overflow, a host function refusing a bad argument) or exited.
	ErrTrap = errors.New("plugin trapped")
	// ErrTimeout: the call ran past the plugin's time limit.
	ErrTimeout = errors.New("plugin timed out")
	// ErrFuel: the call used up its fuel, the CPU budget of limits.fuel.
	ErrFuel = errors.New("plugin ran out of fuel")
	// ErrCanceled: the caller's context ended during the call, or was
	// already done (the call does not start), or the plugin's Close
	// cancelled the call when its own context ended (then it also wraps
	// ErrClosed).
	ErrCanceled = errors.New("call canceled")
	// ErrContract: what the guest returned breaks the ABI (abi.Err* says how).
	ErrContract = errors.New("plugin broke the ABI contract")
	// ErrNoHandler: the plugin has no handler of that name.
	ErrNoHandler = errors.New("no such handler")
	// ErrClosed: the plugin or runtime is closed.
	ErrClosed = errors.New("plugin is closed")
	// ErrPermission: the plugin reached for something it was not granted.
	ErrPermission = errors.New("permission denied")
	// ErrUntrusted: a package did not pass the trust policy.
	ErrUntrusted = errors.New("package not trusted")

	// ErrManifest: at load, the plugin's plugin.toml is missing,
	// unreadable, too large or invalid (a *manifest.Error lists the
	// problems), or the plugin folder cannot be opened.
	ErrManifest = errors.New("invalid plugin manifest")
	// ErrModule: at load, the module cannot be used as it is: missing,
	// unreadable or too large, not valid WebAssembly, refused by the
	// engine's compiler or at instantiation, or needing more memory to
	// start than its memory limit.
	ErrModule = errors.New("invalid plugin module")
	// ErrPackage: at load, a .vitplug package cannot be opened: corrupt,
	// over the package limits, or its checksums or manifest are wrong
	// (vitplug.Err* says which).
	ErrPackage = errors.New("invalid plugin package")
	// ErrGrants: at load, the LoadConfig's grants are invalid, or a
	// granted host folder cannot be opened.
	ErrGrants = errors.New("invalid grants")
)

// kindError gives an error one of the sentinels above without changing its
// message: errors.Is(err, kind) is true, and errors.Is and errors.As still
// reach what err wraps.
type kindError struct{ err, kind error }

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.err, e.kind} }

// withKind returns err marked with the sentinel kind, unless err is nil or
// already matches one of the sentinels of a failed load.
func withKind(kind, err error) error {
	if err == nil || hasKind(err) {
		return err
	}
	return &kindError{err: err, kind: kind}
}

// loadKinds are the sentinels a failed load matches, exactly one each
// (an error listing several problems matches the sentinel of each).
var loadKinds = []error{
	ErrManifest, ErrModule, ErrPackage, ErrGrants, ErrContract, ErrPermission, ErrUntrusted, ErrClosed,
	ErrGuest, ErrTrap, ErrTimeout, ErrFuel, ErrCanceled,
}

func hasKind(err error) bool {
	for _, k := range loadKinds {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// GuestError is an error result returned by a plugin's handler or on-load.
type GuestError struct {
	Message string
}

func (e *GuestError) Error() string { return "plugin error: " + e.Message }

// Is makes errors.Is(err, ErrGuest) true.
func (e *GuestError) Is(target error) bool { return target == ErrGuest }

// CallError is the error of a failed call into a plugin.
type CallError struct {
	Plugin   string // plugin name
	Function string // handler or hook name
	Err      error
}

func (e *CallError) Error() string {
	return fmt.Sprintf("call plugin %q function %q: %v", e.Plugin, e.Function, e.Err)
}

func (e *CallError) Unwrap() error { return e.Err }

// TrapError is a trap inside the guest: Message is the engine's
// description ("wasm error: unreachable"), Frames the guest's call stack
// when the engine gives one, innermost first, named from the module's
// name section (both engines give it; wazero not for an overflow of its
// own stack, only for the metering's stack limit), and
// Trace those names, one a line.
type TrapError struct {
	Message string
	Trace   string
	Frames  []Frame
	cause   error
}

// Frame is one function of a guest's call stack.
type Frame struct {
	// Function is the function's name in the module's name section, ""
	// when the module names none.
	Function string
}

// Error is "trap: " and the message, then the innermost named function:
// "trap: wasm error: unreachable in function parse_header".
func (e *TrapError) Error() string {
	for _, f := range e.Frames {
		if f.Function != "" {
			return "trap: " + e.Message + " in function " + f.Function
		}
		break
	}
	return "trap: " + e.Message
}

// Is makes errors.Is(err, ErrTrap) true.
func (e *TrapError) Is(target error) bool { return target == ErrTrap }

func (e *TrapError) Unwrap() error { return e.cause }

func newTrap(err error) *TrapError {
	msg := err.Error()
	trace := ""
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg, trace = msg[:i], strings.TrimSpace(msg[i+1:])
	}
	msg = strings.TrimSuffix(msg, " (recovered by wazero)")
	t := &TrapError{Message: msg, Trace: trace, cause: err}
	if frames := engine.FramesOf(err); len(frames) > 0 {
		t.Frames = make([]Frame, len(frames))
		names := make([]string, len(frames))
		for i, f := range frames {
			t.Frames[i] = Frame{Function: guestName(f.Function)}
			names[i] = cmp.Or(t.Frames[i].Function, "?")
		}
		t.Trace = strings.Join(names, "\n")
	}
	return t
}

// deniedError marks a call that failed after a capability was denied
// during it: errors.Is(err, ErrPermission) is true, and the message is the
// call's own.
type deniedError struct{ err error }

func (e *deniedError) Error() string   { return e.err.Error() + " (after a permission was denied)" }
func (e *deniedError) Unwrap() []error { return []error{e.err, ErrPermission} }

// maxGuestName bounds a guest function's name as the runtime reports it
// (errors, profiles): the name section is the guest's to fill.
const maxGuestName = 256

// guestName returns a function name from the guest's name section fit to
// print: at most maxGuestName bytes, with invalid UTF-8 and control
// characters (a terminal's escape sequences) replaced by U+FFFD.
func guestName(s string) string {
	if len(s) > maxGuestName {
		s = s[:maxGuestName]
	}
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}
