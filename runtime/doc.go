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
// The package is named runtime, like the standard library's: import it
// under another name (vitteruntime, pluginrt) where both are needed. See
// docs/RATIONALE.md "Why is the package called runtime?".
package runtime
