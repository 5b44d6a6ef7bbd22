package meter

// The cost of host functions.
//
// The instrumented code counts the guest's own instructions; what a host
// function does for the guest (copy bytes in or out of its memory, write
// them to a file or to stdout, make random bytes, resolve a path) runs in
// Go, where no instruction is counted. So the host charges it to the same
// counter, before doing it, the way the code charges a bulk operation
// before running it:
//
//   - every call of a host function costs [HostCallFuel];
//   - each byte it is asked to handle (read, write, copy, list) costs
//     1/[HostBytesPerFuel] of a unit, as in memory.copy;
//   - each random byte costs [RandomByteFuel]: making it takes 10 to 100
//     times as long as copying it.
//
// The cost depends only on the arguments the guest passes (the sizes it
// asks for, not the sizes the host ends up handling): the same call costs
// the same fuel wherever and whenever it runs, and never less than its
// work. The out-of-fuel callback itself costs nothing.

const (
	// HostCallFuel is what every call of a host function costs, before its
	// bytes: about what entering Go and back costs, counted in guest
	// instructions.
	HostCallFuel = 256
	// HostBytesPerFuel is how many bytes a host function handles for one
	// unit of fuel: [DefaultBulkBytesPerFuel], the rate of memory.copy.
	HostBytesPerFuel = DefaultBulkBytesPerFuel
	// RandomByteFuel is what each byte of WASI random_get costs.
	RandomByteFuel = 1
)

// HostFuel returns the fuel a host function call handling n bytes costs:
// [HostCallFuel] plus one unit per [HostBytesPerFuel] bytes, rounded up.
// It saturates instead of overflowing.
func HostFuel(n uint64) uint64 {
	per := n / HostBytesPerFuel
	if n%HostBytesPerFuel != 0 {
		per++
	}
	return saturatingAdd(HostCallFuel, per)
}

// RandomFuel returns the fuel of a random_get of n bytes: [HostCallFuel]
// plus [RandomByteFuel] a byte.
func RandomFuel(n uint64) uint64 {
	if n > ^uint64(0)/RandomByteFuel {
		return ^uint64(0)
	}
	return saturatingAdd(HostCallFuel, n*RandomByteFuel)
}

func saturatingAdd(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return ^uint64(0)
}
