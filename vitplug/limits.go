package vitplug

// Defaults of [Limits], the host limits of package-v1.md.
const (
	// DefaultMaxSize is the default largest total size of a package's
	// entries once inflated: 256 MiB.
	DefaultMaxSize int64 = 256 << 20
	// DefaultMaxEntries is the default largest number of entries in a
	// package, folders and signatures included: 10 000.
	DefaultMaxEntries = 10_000
)

// Fixed by package-v1.md, whatever the [Limits].
const (
	// MaxRatio is the largest compression ratio (inflated size over
	// compressed size) of an entry larger than RatioThreshold.
	MaxRatio = 200
	// RatioThreshold is the inflated size past which MaxRatio applies:
	// 1 MiB.
	RatioThreshold = 1 << 20
)

// Host policy of this implementation, also fixed (see the package
// documentation).
const (
	// MaxNameLength is the longest entry name, in bytes.
	MaxNameLength = 1024
	// MaxSignatureSize is the largest _vitte/signatures/<KEYID>.minisig
	// entry. A minisign signature file is well under 1 KiB with the comments
	// this format uses.
	MaxSignatureSize = 8 << 10
	// maxEntryMeta bounds the extra fields plus the comment of one entry in
	// the central directory, so that reading the directory takes memory in
	// proportion to the entry count.
	maxEntryMeta = 4 << 10
)

// Limits are the host's limits on a package. They bound the memory that
// reading one takes: a package is read whole into memory, and never
// extracted to disk.
//
// The zero value stands for the defaults, and so does a zero or negative
// field. A package has no ZIP64 records (see "ZIP profile" in the package
// documentation), so limits past 2 GiB or 65 534 entries are lowered to
// those.
//
//	pkg, err := vitplug.OpenFile("hello-0.1.0.vitplug", vitplug.Limits{})
//
// Pack applies the same limits to what it packs, so that what it writes
// opens with them.
type Limits struct {
	// MaxSize is the largest total size of all entries once inflated,
	// in bytes. Default DefaultMaxSize.
	MaxSize int64
	// MaxEntries is the largest number of entries. Default
	// DefaultMaxEntries.
	MaxEntries int
}

// The ceilings of Limits: what an archive without ZIP64 can hold, with
// room for the headers.
const (
	maxMaxSize    int64 = 2 << 30
	maxMaxEntries       = 0xffff - 1
)

// withDefaults returns l with its zero or negative fields set to their
// defaults, and lowered to what the ZIP profile can hold.
func (l Limits) withDefaults() Limits {
	if l.MaxSize <= 0 {
		l.MaxSize = DefaultMaxSize
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	l.MaxSize = min(l.MaxSize, maxMaxSize)
	l.MaxEntries = min(l.MaxEntries, maxMaxEntries)
	return l
}
