package vitplug

import (
	"errors"
	"fmt"
)

// Outcomes a caller can branch on with [errors.Is]. Every error that Open,
// Pack and the other functions of this package return for a bad package or
// plugin folder wraps exactly one of them; errors about one entry come as an
// [*EntryError] that names it.
var (
	// ErrCorrupt: the archive is not a well-formed ZIP of the profile this
	// package reads (see "ZIP profile" in the package documentation), or an
	// entry's data does not inflate to what its headers say.
	ErrCorrupt = errors.New("corrupt archive")
	// ErrUnsafePath: an entry name is empty, absolute, has a ".." segment, a
	// backslash or a drive letter, or is otherwise outside the entry-name
	// policy.
	ErrUnsafePath = errors.New("unsafe path")
	// ErrDuplicate: two entries have the same name, also when the names
	// differ only by case, or one name is used both as a file and a folder.
	ErrDuplicate = errors.New("duplicate entry")
	// ErrNotRegular: an entry is a symbolic link, a device or anything else
	// but a regular file or a folder. Pack also refuses such a file in the
	// plugin folder.
	ErrNotRegular = errors.New("not a regular file")
	// ErrCompression: an entry uses a compression method other than store
	// and deflate.
	ErrCompression = errors.New("unsupported compression method")
	// ErrEncrypted: an entry is encrypted.
	ErrEncrypted = errors.New("encrypted entry")
	// ErrTooLarge: a size or count is over a [Limits] value, or an entry
	// inflates past its declared size.
	ErrTooLarge = errors.New("too large")
	// ErrRatio: an entry larger than [RatioThreshold] declares a compression
	// ratio over [MaxRatio].
	ErrRatio = errors.New("compression ratio too high")
	// ErrChecksums: _vitte/CHECKSUMS is missing, malformed, or does not
	// list the files of the package exactly.
	ErrChecksums = errors.New("invalid checksums")
	// ErrManifest: plugin.toml is missing, is not the first entry, or does
	// not validate. The error also wraps the [*manifest.Error] when there is
	// one.
	ErrManifest = errors.New("invalid manifest")
	// ErrModule: the module named by plugin.module in the manifest is not in
	// the package or the folder.
	ErrModule = errors.New("module not found")
	// ErrReserved: an entry under _vitte/ is not CHECKSUMS or
	// signatures/<KEYID>.minisig, or a signature's key id is malformed.
	ErrReserved = errors.New("reserved name")
)

// EntryError is an error about one entry of a package, or one file of a
// plugin folder being packed.
//
// It prints as
//
//	entry "files/../x": unsafe path: ".." segment
//
// with the name quoted, and cut when it is long.
type EntryError struct {
	// Entry is the name as found in the archive or, for Pack, the path
	// inside the plugin folder, '/'-separated. It comes from untrusted input:
	// quote it before printing it.
	Entry string
	// Err wraps one of the sentinel errors of this package.
	Err error
}

// Error implements error.
func (e *EntryError) Error() string {
	return "entry " + quote(e.Entry) + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *EntryError) Unwrap() error { return e.Err }

// entryErr builds an *EntryError wrapping sentinel, with a detail formatted
// from format and args.
func entryErr(name string, sentinel error, format string, args ...any) error {
	return &EntryError{Entry: name, Err: fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))}
}

// maxQuoted is how many bytes of an untrusted name an error message repeats.
const maxQuoted = 128

// quote returns s quoted with %q, cut after maxQuoted bytes.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q...", s[:maxQuoted])
}

// Interface guards
var (
	_ error                       = (*EntryError)(nil)
	_ interface{ Unwrap() error } = (*EntryError)(nil)
)
