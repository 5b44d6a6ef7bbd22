// Package runtime loads plugins and runs them in a WebAssembly sandbox: it
// is what an application embeds.
//
// A [Runtime] owns an engine and the host functions the application
// provides. [Runtime.Load] reads a plugin folder (plugin.toml and its
// module), checks the module against the plugin ABI v1 (docs/spec/abi-v1.md),
// compiles it, instantiates it and runs its on-load hook. [Plugin.Call] runs
// one handler; [Plugin.Close] runs on-unload and frees the plugin.
//
//	rt, err := runtime.New(ctx, runtime.NewConfig().WithStdout(os.Stdout))
//	if err != nil { ... }
//	defer rt.Close(ctx)
//	p, err := rt.Load(ctx, "testdata/wasm/hello-c")
//	if err != nil { ... }
//	defer p.Close(ctx)
//	out, err := p.Call(ctx, "greet", []byte("world"))
//
// A plugin can touch nothing but what its manifest asked for and the
// application granted. Every failure inside the guest (a trap, a timeout, a
// broken contract, an error result) is returned as an error that names the
// plugin and the function; the host keeps running, and an instance that
// trapped is discarded and replaced by a fresh one for the next call.
//
// # Errors
//
// A failed call returns a *CallError matching, with errors.Is, exactly one
// of ErrGuest (a *GuestError), ErrTrap (a *TrapError), ErrTimeout,
// ErrFuel, ErrCanceled, ErrContract, ErrNoHandler, ErrClosed and
// ErrQuarantined (a *QuarantineError), or ErrModule or ErrGrants when the
// fresh instance it needed could not be created. When a capability was
// denied during the call, the error also matches ErrPermission: test
// ErrPermission before the others.
//
// A failed load matches exactly one of ErrManifest (plugin.toml),
// ErrModule (the module file or binary), ErrPackage (a .vitplug that
// cannot be opened), ErrUntrusted (the package verifier), ErrContract (ABI
// v1), ErrPermission (an import the manifest's capabilities do not cover),
// ErrGrants (the LoadConfig's grants), ErrClosed, or, when _initialize or
// on-load fails, the sentinel a call would. The sentinel is added to the
// message, not substituted: what the error wraps stays reachable.
//
// # Limits
//
// A plugin gets its manifest's [limits], each lowered to the LoadConfig's
// (LoadConfig.WithMemory, WithTimeout, WithOutput, WithFuel) and to the
// host's ceilings (Config.WithMaxMemory, WithMaxTimeout, WithMaxOutput),
// whichever is lower; Plugin.Limits says what it got and what lowered it.
//
// The package is named runtime, like the standard library's: import it
// under another name (vitteruntime, pluginrt) where both are needed. See
// docs/RATIONALE.md "Why is the package called runtime?".
package runtime
