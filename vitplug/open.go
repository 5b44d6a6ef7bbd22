package vitplug

import (
	"errors"
	"fmt"
	"io"

	"github.com/vitte-lang/vitte-plugin/internal/boundedfile"
	"github.com/vitte-lang/vitte-plugin/manifest"
)

// Open reads and checks the .vitplug archive r of size bytes, within lim,
// and returns the package it holds. It reads everything into memory and
// writes nothing anywhere.
//
// Open enforces every refusal rule of package-v1.md, and the ZIP profile
// and entry-name policy of this package, in this order: the archive's
// structure and entry count; each entry's name, role, type, encryption,
// compression method and declared sizes; plugin.toml being the first
// entry; the local headers and layout; the data of each entry; CHECKSUMS;
// plugin.toml; the module. It stops at the first problem. An error about
// an entry is an [*EntryError] naming it; every error for a bad archive
// wraps one of the sentinel errors of this package.
func Open(r io.ReaderAt, size int64, lim Limits) (*Package, error) {
	lim = lim.withDefaults()
	if size < 0 {
		return nil, corrupt("negative size %d", size)
	}
	r = io.NewSectionReader(r, 0, size)
	entries, cdOffset, err := readDirectory(r, size, lim)
	if err != nil {
		return nil, err
	}
	if err := checkEntries(entries, lim); err != nil {
		return nil, err
	}
	if err := checkLayout(r, entries, cdOffset); err != nil {
		return nil, err
	}

	files := map[string][]byte{}
	sigs := map[string][]byte{}
	var sums []byte
	haveSums := false
	for _, e := range entries {
		data, err := readEntry(r, e)
		if err != nil {
			return nil, err
		}
		switch kind, id, _ := classify(e.name); kind {
		case kindContent:
			files[e.name] = data
		case kindChecksums:
			sums, haveSums = data, true
		case kindSignature:
			sigs[id] = data
		}
	}
	if !haveSums {
		return nil, entryErr(ChecksumsName, ErrChecksums, "missing")
	}
	lines, err := parseChecksums(sums)
	if err != nil {
		return nil, err
	}
	if err := matchChecksums(lines, files); err != nil {
		return nil, err
	}
	m, err := manifest.Parse(ManifestName, files[ManifestName])
	if err != nil {
		return nil, &EntryError{Entry: ManifestName, Err: fmt.Errorf("%w: %w", ErrManifest, err)}
	}
	if _, ok := files[m.Plugin.Module]; !ok {
		return nil, entryErr(m.Plugin.Module, ErrModule, "named by [plugin].module, not in the package")
	}
	p := newPackage(files, m, sigs, lim)
	p.checksums = sums // the same bytes, as they were signed
	return p, nil
}

// checkEntries checks what the central directory says of each entry, before
// any data is read: name, role, collisions, type, encryption, compression
// method, declared sizes and ratio, the total size, and that plugin.toml
// comes first.
func checkEntries(entries []*zipEntry, lim Limits) error {
	names := newNameSet()
	var total uint64
	hasManifest := false
	for _, e := range entries {
		if why := checkName(e.name); why != "" {
			return entryErr(e.name, ErrUnsafePath, "%s", why)
		}
		kind, _, why := classify(e.name)
		if why != "" {
			return entryErr(e.name, ErrReserved, "%s", why)
		}
		if why := names.add(e.name); why != "" {
			return entryErr(e.name, ErrDuplicate, "%s", why)
		}
		if why := fileType(e); why != "" {
			return entryErr(e.name, ErrNotRegular, "%s", why)
		}
		if e.flags&(flagEncrypted|flagStrongEncrypted|flagMaskedHeaders) != 0 {
			return entryErr(e.name, ErrEncrypted, "flags %#04x", e.flags)
		}
		if e.method != methodStore && e.method != methodDeflate {
			return entryErr(e.name, ErrCompression, "method %d, not store (0) or deflate (8)", e.method)
		}
		switch {
		case e.method == methodStore && e.csize != e.usize:
			return entryErr(e.name, ErrCorrupt, "stored, but %d bytes compressed and %d inflated", e.csize, e.usize)
		case e.usize > RatioThreshold && e.usize > MaxRatio*e.csize:
			return entryErr(e.name, ErrRatio, "declares %d bytes from %d compressed, over %d:1", e.usize, e.csize, MaxRatio)
		case kind == kindFolder && e.usize != 0:
			return entryErr(e.name, ErrCorrupt, "a folder with %d bytes of data", e.usize)
		case kind == kindSignature && e.usize > MaxSignatureSize:
			return entryErr(e.name, ErrTooLarge, "%d bytes, over the limit of %d", e.usize, MaxSignatureSize)
		case e.name == ManifestName && e.usize > manifest.MaxFileSize:
			return entryErr(e.name, ErrTooLarge, "%d bytes, over the limit of %d", e.usize, manifest.MaxFileSize)
		}
		total += e.usize
		if total > uint64(lim.MaxSize) {
			return entryErr(e.name, ErrTooLarge, "the entries inflate to more than %d bytes", lim.MaxSize)
		}
		hasManifest = hasManifest || e.name == ManifestName
	}
	switch {
	case !hasManifest:
		return entryErr(ManifestName, ErrManifest, "missing")
	case entries[0].name != ManifestName:
		return entryErr(ManifestName, ErrManifest, "not the first entry")
	case entries[0].offset != 0:
		return entryErr(ManifestName, ErrManifest, "not the first entry in the archive's data")
	}
	return nil
}

// OpenFile opens the .vitplug file at path with [Open]. The file must be a
// regular file; it is read and closed before OpenFile returns.
func OpenFile(path string, lim Limits) (*Package, error) {
	f, fi, err := boundedfile.Open(path) // a named pipe is refused, not waited on
	var nr *boundedfile.NotRegularError
	if errors.As(err, &nr) {
		return nil, fmt.Errorf("open package %s: %w: %s", path, ErrNotRegular, nr.Mode.Type())
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := Open(f, fi.Size(), lim)
	if err != nil {
		return nil, fmt.Errorf("open package %s: %w", path, err)
	}
	return p, nil
}

// AddSignature copies the package read from in (size bytes, opened with
// [Open] within lim) to out with the minisign signature sig embedded as
// _vitte/signatures/<keyID>.minisig. The content id does not change. It is
// [Open], [Package.WithSignature] and [Package.WriteTo] in a row.
func AddSignature(in io.ReaderAt, size int64, out io.Writer, keyID string, sig []byte, lim Limits) error {
	p, err := Open(in, size, lim)
	if err != nil {
		return fmt.Errorf("add signature: %w", err)
	}
	if p, err = p.WithSignature(keyID, sig); err != nil {
		return fmt.Errorf("add signature: %w", err)
	}
	if _, err := p.WriteTo(out); err != nil {
		return fmt.Errorf("add signature: %w", err)
	}
	return nil
}
