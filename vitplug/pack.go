package vitplug

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vitte-lang/vitte-plugin/internal/boundedfile"
	"github.com/vitte-lang/vitte-plugin/manifest"
)

// Pack packs the plugin folder dir into a .vitplug archive written to w,
// and returns the package. It packs plugin.toml, the module that
// plugin.module names in the manifest, and every regular file under files/, and nothing
// else: no sources, no build output, no _vitte/ folder.
//
// Pack reads dir through an [os.Root], so no path leads out of it, and
// refuses a symbolic link or any other file that is not regular among what
// it packs, a name outside the entry-name policy, names that differ only
// by case, a plugin.toml that does not validate, a missing module, and a
// package over lim. Its errors read
//
//	pack hello: entry "files/link": not a regular file: symbolic link
//
// The same files always give the same bytes (see "Reproducible packing" in
// the package documentation).
func Pack(dir string, w io.Writer, lim Limits) (*Package, error) {
	p, err := readPluginDir(dir, lim)
	if err != nil {
		return nil, err
	}
	if _, err := p.WriteTo(w); err != nil {
		return nil, fmt.Errorf("pack %s: %w", dir, err)
	}
	return p, nil
}

// PackFile packs the plugin folder dir as [Pack] does into the file out,
// atomically: it writes a temporary file in out's folder, syncs it, and
// renames it to out, so that out is either the whole package or what it
// was before. The file's mode is 0644.
func PackFile(dir, out string, lim Limits) (p *Package, err error) {
	p, err = readPluginDir(dir, lim)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := p.WriteTo(tmp); err != nil {
		return nil, fmt.Errorf("pack %s: %w", dir, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return nil, fmt.Errorf("pack %s: %w", dir, err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("pack %s: %w", dir, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("pack %s: %w", dir, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return nil, fmt.Errorf("pack %s: %w", dir, err)
	}
	return p, nil
}

// readPluginDir reads what Pack packs from the plugin folder dir.
func readPluginDir(dir string, lim Limits) (*Package, error) {
	lim = lim.withDefaults()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", dir, err)
	}
	defer root.Close()
	d := &dirReader{root: root, lim: lim, files: map[string][]byte{}, names: newNameSet()}
	m, err := d.read()
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", dir, err)
	}
	p := newPackage(d.files, m, nil, lim)
	if _, total := p.size(); total > lim.MaxSize {
		return nil, fmt.Errorf("pack %s: %w", dir, entryErr(ChecksumsName, ErrTooLarge, "the entries inflate to more than %d bytes", lim.MaxSize))
	}
	return p, nil
}

// dirReader collects the files of a plugin folder.
type dirReader struct {
	root  *os.Root
	lim   Limits
	files map[string][]byte
	names *nameSet
	total int64
}

func (d *dirReader) read() (*manifest.Manifest, error) {
	data, err := d.add(ManifestName, manifest.MaxFileSize)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, entryErr(ManifestName, ErrManifest, "missing")
		}
		return nil, err
	}
	m, err := manifest.Parse(ManifestName, data)
	if err != nil {
		return nil, &EntryError{Entry: ManifestName, Err: fmt.Errorf("%w: %w", ErrManifest, err)}
	}
	if _, err := d.add(m.Plugin.Module, d.lim.MaxSize); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, entryErr(m.Plugin.Module, ErrModule, "named by [plugin].module, not in the folder")
		}
		return nil, err
	}

	const files = "files"
	fi, err := d.root.Lstat(files)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return m, nil
	case err != nil:
		return nil, err
	case !fi.IsDir():
		return nil, entryErr(files, ErrNotRegular, "a %s, not a folder", boundedfile.TypeName(fi.Mode()))
	}
	err = fs.WalkDir(d.root.FS(), files, func(name string, de fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case de.IsDir():
			return nil
		case !de.Type().IsRegular():
			return entryErr(name, ErrNotRegular, "%s", boundedfile.TypeName(de.Type()))
		}
		if _, ok := d.files[name]; ok {
			return nil // the module, under files/
		}
		_, err = d.add(name, d.lim.MaxSize)
		return err
	})
	return m, err
}

// add reads the regular file name, at most max bytes, checks its name and
// the limits, and records it.
func (d *dirReader) add(name string, max int64) ([]byte, error) {
	if why := checkName(name); why != "" {
		return nil, entryErr(name, ErrUnsafePath, "%s", why)
	}
	if kind, _, why := classify(name); why != "" || kind != kindContent {
		return nil, entryErr(name, ErrReserved, "%s", reservedDetail)
	}
	if why := d.names.add(name); why != "" {
		return nil, entryErr(name, ErrDuplicate, "%s", why)
	}
	// CHECKSUMS is one more entry.
	if len(d.files)+2 > d.lim.MaxEntries {
		return nil, entryErr(name, ErrTooLarge, "more than %d entries", d.lim.MaxEntries)
	}
	data, err := d.readRegular(name, min(max, d.lim.MaxSize-d.total))
	if err != nil {
		return nil, err
	}
	d.total += int64(len(data))
	d.files[name] = data
	return data, nil
}

// readRegular reads the regular file name inside the root, refusing a
// symbolic link, any other kind of file, and more than max bytes.
func (d *dirReader) readRegular(name string, max int64) ([]byte, error) {
	osName := filepath.FromSlash(name)
	fi, err := d.root.Lstat(osName)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, entryErr(name, ErrNotRegular, "%s", boundedfile.TypeName(fi.Mode()))
	}
	data, err := boundedfile.ReadIn(d.root, osName, max)
	var notRegular *boundedfile.NotRegularError
	switch {
	case errors.As(err, &notRegular):
		return nil, entryErr(name, ErrNotRegular, "%s", boundedfile.TypeName(notRegular.Mode))
	case errors.Is(err, boundedfile.ErrTooLarge) && max < d.lim.MaxSize-d.total:
		return nil, entryErr(name, ErrTooLarge, "over the limit of %d bytes", max)
	case errors.Is(err, boundedfile.ErrTooLarge):
		return nil, entryErr(name, ErrTooLarge, "the entries inflate to more than %d bytes", d.lim.MaxSize)
	}
	return data, err
}
