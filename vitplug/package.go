package vitplug

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"slices"

	"github.com/vitte-lang/vitte-plugin/manifest"
)

// Package is a checked .vitplug package held in memory: its content files,
// its _vitte/CHECKSUMS and its embedded signatures. Get one from [Open],
// [OpenFile], [Pack] or [PackFile]; the zero value is not usable.
//
// A Package never changes: the accessors return copies, and
// [Package.WithSignature] returns a new Package. It is safe for concurrent
// use.
type Package struct {
	lim       Limits
	files     map[string][]byte // content files, by path: CHECKSUMS lists exactly these
	checksums []byte
	id        string
	module    string            // [plugin].module
	sigs      map[string][]byte // by key id
}

// newPackage builds a Package from its content files, whose manifest
// validated as m. It computes CHECKSUMS and the content id.
func newPackage(files map[string][]byte, m *manifest.Manifest, sigs map[string][]byte, lim Limits) *Package {
	sums := buildChecksums(files)
	if sigs == nil {
		sigs = map[string][]byte{}
	}
	return &Package{lim: lim, files: files, checksums: sums, id: ContentID(sums), module: m.Plugin.Module, sigs: sigs}
}

// Manifest returns plugin.toml, parsed. Each call parses it again and
// returns a new value, which the caller may change.
func (p *Package) Manifest() *manifest.Manifest {
	m, err := manifest.Parse(ManifestName, p.files[ManifestName])
	if err != nil {
		// The same bytes validated when the package was opened or packed.
		panic("vitplug: plugin.toml no longer parses: " + err.Error())
	}
	return m
}

// Module returns a copy of the module file, the one named by
// plugin.module in the manifest: a WebAssembly binary or, for kind "python", the entry
// script.
func (p *Package) Module() []byte { return bytes.Clone(p.files[p.module]) }

// File returns a copy of the content file name ("plugin.toml",
// "hello.wasm", "files/data.json"...), and whether the package has it.
// The files that a guest may read are those under [FilesDir].
func (p *Package) File(name string) ([]byte, bool) {
	b, ok := p.files[name]
	return bytes.Clone(b), ok
}

// Files returns the paths of the content files, sorted: the paths that
// _vitte/CHECKSUMS lists, plugin.toml and the module included.
func (p *Package) Files() []string { return sortedKeys(p.files) }

// ContentID returns the content id, "h1:" followed by the base64 SHA-256 of
// _vitte/CHECKSUMS. It names the plugin's content, whatever the ZIP bytes
// and the signatures around it.
func (p *Package) ContentID() string { return p.id }

// Checksums returns a copy of the bytes of _vitte/CHECKSUMS: the payload
// that signatures sign.
func (p *Package) Checksums() []byte { return bytes.Clone(p.checksums) }

// Signatures returns copies of the embedded signatures, the
// _vitte/signatures/<KEYID>.minisig entries, keyed by KEYID (16 upper-case
// hexadecimal digits). They are as found in the package: this package
// checks their names and sizes, not their content; that is the verifier's
// job.
func (p *Package) Signatures() map[string][]byte {
	sigs := make(map[string][]byte, len(p.sigs))
	for id, sig := range p.sigs {
		sigs[id] = bytes.Clone(sig)
	}
	return sigs
}

// WithSignature returns a copy of p with the minisign signature sig embedded
// as _vitte/signatures/<keyID>.minisig, replacing any signature with the same
// key id. The content id does not change.
//
// keyID is the signing key's id as 16 upper-case hexadecimal digits, like
// "E7620F1842B4E81F"; sig is the .minisig file. The signature must fit in
// MaxSignatureSize, and the package in the limits it was opened or packed
// with.
func (p *Package) WithSignature(keyID string, sig []byte) (*Package, error) {
	name := SignaturesDir + keyID + signatureExt
	if !isKeyID(keyID) {
		return nil, entryErr(name, ErrReserved, "signature key id %s is not %d upper-case hexadecimal digits", quote(keyID), keyIDLen)
	}
	if len(sig) > MaxSignatureSize {
		return nil, entryErr(name, ErrTooLarge, "%d bytes, over the limit of %d", len(sig), MaxSignatureSize)
	}
	q := *p
	q.sigs = maps.Clone(p.sigs)
	q.sigs[keyID] = bytes.Clone(sig)
	entries, total := q.size()
	if entries > q.lim.MaxEntries {
		return nil, entryErr(name, ErrTooLarge, "more than %d entries", q.lim.MaxEntries)
	}
	if total > q.lim.MaxSize {
		return nil, entryErr(name, ErrTooLarge, "the entries inflate to more than %d bytes", q.lim.MaxSize)
	}
	return &q, nil
}

// size returns how many entries WriteTo writes and their total size.
func (p *Package) size() (entries int, total int64) {
	total = int64(len(p.checksums))
	for _, b := range p.files {
		total += int64(len(b))
	}
	for _, b := range p.sigs {
		total += int64(len(b))
	}
	return len(p.files) + 1 + len(p.sigs), total
}

// The fixed metadata of every entry WriteTo writes.
const (
	// zipVersion is "version made by" and "version needed": ZIP 2.0, which
	// has deflate; the made-by host is Unix, so external attributes hold a
	// Unix mode.
	zipVersion = 20
	// dosDate1980 is 1980-01-01 as an MS-DOS date, the ZIP epoch, with time
	// 00:00:00.
	dosDate1980 = 1<<5 | 1
	// compression is the deflate level of every entry.
	compression = flate.BestCompression
)

// WriteTo writes p as a .vitplug archive to w, and returns the number of
// bytes written. The same package always gives the same bytes with the same
// Go toolchain (see "Reproducible packing" in the package documentation).
func (p *Package) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	zw := zip.NewWriter(cw)
	names := slices.Collect(maps.Keys(p.files))
	names = append(names, ChecksumsName)
	for id := range p.sigs {
		names = append(names, SignaturesDir+id+signatureExt)
	}
	slices.SortFunc(names, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == ManifestName:
			return -1
		case b == ManifestName:
			return 1
		case a < b:
			return -1
		}
		return 1
	})
	for _, name := range names {
		if err := writeEntry(zw, name, p.entry(name)); err != nil {
			return cw.n, fmt.Errorf("write package: entry %s: %w", quote(name), err)
		}
	}
	if err := zw.Close(); err != nil {
		return cw.n, fmt.Errorf("write package: %w", err)
	}
	return cw.n, nil
}

// entry returns the bytes of the entry name, one of those WriteTo writes.
func (p *Package) entry(name string) []byte {
	if name == ChecksumsName {
		return p.checksums
	}
	if kind, id, _ := classify(name); kind == kindSignature {
		return p.sigs[id]
	}
	return p.files[name]
}

// writeEntry writes one file entry with the fixed metadata: no timestamp
// but the ZIP epoch, mode 0644, no extra field, no data descriptor. It
// deflates data, unless that does not make it smaller or would make a ratio
// that readers refuse; then it stores it.
func writeEntry(zw *zip.Writer, name string, data []byte) error {
	fh := &zip.FileHeader{
		Name:               name,
		CreatorVersion:     zipVersion,
		ReaderVersion:      zipVersion,
		Method:             zip.Store,
		ModifiedDate:       dosDate1980,
		CRC32:              crc32.ChecksumIEEE(data),
		UncompressedSize64: uint64(len(data)),
	}
	fh.SetMode(0o644)
	body := data
	if len(data) > 0 {
		var b bytes.Buffer
		fw, err := flate.NewWriter(&b, compression)
		if err != nil {
			return err
		}
		if _, err := fw.Write(data); err != nil {
			return err
		}
		if err := fw.Close(); err != nil {
			return err
		}
		n := b.Len()
		if n < len(data) && !(len(data) > RatioThreshold && len(data) > MaxRatio*n) {
			fh.Method = zip.Deflate
			body = b.Bytes()
		}
	}
	fh.CompressedSize64 = uint64(len(body))
	out, err := zw.CreateRaw(fh)
	if err != nil {
		return err
	}
	_, err = out.Write(body)
	return err
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// Interface guards
var _ io.WriterTo = (*Package)(nil)
