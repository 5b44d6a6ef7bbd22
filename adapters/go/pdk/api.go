package pdk

// Handle runs fn as the handler of one call and returns the pointer to its
// result area. Call it, and nothing else, from the exported shim of each
// handler:
//
//	//go:wasmexport greet
//	func greet(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, Greet) }
//
// The input passed to fn is the block the host allocated through
// cabi_realloc (nil if empty); fn owns it and may keep or modify it. The
// bytes fn returns must not be modified afterwards: they stay reachable until
// the host has copied them (see [Post]). An error becomes the error result
// err.Error(), which like every string of the ABI must be valid UTF-8 (the
// host turns anything else into an error of its own). A panic in fn is
// recovered and becomes the error result "panic: <value>" (see
// [PanicError]), with the stack logged at [LevelError].
//
// Outside a wasip1 guest Handle panics: unit tests call fn directly.
func Handle(ptr, size uint32, fn func(input []byte) ([]byte, error)) uint32 {
	return doHandle(ptr, size, fn)
}

// OnLoad runs fn as the plugin's on-load function and returns the pointer to
// its result area. Call it from the on-load shim:
//
//	//go:wasmexport on-load
//	func onLoad() uint32 { return pdk.OnLoad(Load) }
//
// An error returned by fn (or a panic, recovered as in [Handle]) makes the
// host refuse to load the plugin, with err.Error() as the reason.
//
// Outside a wasip1 guest OnLoad panics.
func OnLoad(fn func() error) uint32 { return doOnLoad(fn) }

// OnUnload runs fn as the plugin's on-unload function. Call it from the
// on-unload shim:
//
//	//go:wasmexport on-unload
//	func onUnload() { pdk.OnUnload(Unload) }
//
// A panic in fn is recovered and logged at [LevelError].
//
// Outside a wasip1 guest OnUnload panics.
func OnUnload(fn func()) { doOnUnload(fn) }

// Post releases the result of the last call. Exporting it as
// cabi_post_<name> is optional: without it the kit releases a result when
// the host next calls into the plugin, which is also correct; with it, a
// large result is released as soon as the host has copied it.
//
//	//go:wasmexport cabi_post_greet
//	func postGreet(ptr uint32) { pdk.Post(ptr) }
//
// Outside a wasip1 guest Post panics.
func Post(ptr uint32) { doPost(ptr) }

// Log sends msg to the host's log at the given level. Logging is always
// granted; the host may rate-limit it. msg must be valid UTF-8.
//
// Outside a wasip1 guest Log writes "pdk: <level>: <msg>" to standard error.
func Log(level Level, msg string) { doLog(level, msg) }

// Config returns the value of the configuration key: the manifest's [config]
// default, overridden by the user. ok is false if the key is not set.
//
// Outside a wasip1 guest every key is unset.
func Config(key string) (value string, ok bool) { return doConfig(key) }

// HostCall calls the function name provided by the embedding application
// with payload, and returns its answer, which belongs to the caller. The
// manifest must ask for name in [capabilities].host; a denied or unknown name
// returns a *[HostError].
//
// Outside a wasip1 guest HostCall returns [ErrNoHost].
func HostCall(name string, payload []byte) ([]byte, error) { return doHostCall(name, payload) }

// HTTPRequest sends req through the host and returns the response. The
// manifest must ask for the destination in [capabilities].net; a denied
// destination or a failed request returns a *[HostError].
//
// Only a plugin that calls HTTPRequest imports vitte:plugin/http@1.0.0 (the
// linker drops unused imports), so plugins without network access need no
// net capability.
//
// Outside a wasip1 guest HTTPRequest returns [ErrNoHost].
func HTTPRequest(req *Request) (*Response, error) { return doHTTPRequest(req) }
