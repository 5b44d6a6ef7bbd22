package registry

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// faults lets tests fail the registry's file operations at a chosen
// step: a failing write, an error, a runtime.Goexit or a killed process.
// It is nil outside tests.
type faults struct {
	// before is called before each step ("index.write", "store.rename"...);
	// an error it returns is the step's error.
	before func(step string) error
	// writer, when set, wraps the writer of the temporary file of
	// a "<file>.write" step, to fail it part way (a full disk).
	writer func(step string, w io.Writer) io.Writer
}

func (r *Registry) step(name string) error {
	if r.faults == nil || r.faults.before == nil {
		return nil
	}
	if err := r.faults.before(name); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// writeAtomic replaces dir/name with data, so that a reader or a crash
// at any moment sees either the old file or the new one: write a
// temporary file in the same folder, sync it, rename it over dir/name,
// sync the folder. step names the file in the steps fault hooks see
// ("index" gives "index.create", "index.write", "index.sync",
// "index.close", "index.rename", "index.syncdir").
//
// renamed reports whether the rename was done: then dir/name is the new
// file even if err is not nil (the folder sync failed). onRename, if not
// nil, is called as soon as it is done, before anything else can fail or
// stop the goroutine.
func (r *Registry) writeAtomic(dir, name string, data []byte, step string, onRename func()) (renamed bool, err error) {
	if err := r.step(step + ".create"); err != nil {
		return false, err
	}
	f, err := os.CreateTemp(dir, tmpPrefix+name+"-*")
	if err != nil {
		return false, err
	}
	tmp := f.Name()
	closed := false
	defer func() {
		// Also on runtime.Goexit. A process killed here leaves tmp
		// behind, for the next Open to remove.
		if !renamed {
			if !closed {
				f.Close()
			}
			os.Remove(tmp)
		}
	}()
	if err := r.step(step + ".write"); err != nil {
		return false, err
	}
	var w io.Writer = f
	if r.faults != nil && r.faults.writer != nil {
		w = r.faults.writer(step+".write", f)
	}
	if n, err := w.Write(data); err != nil {
		return false, fmt.Errorf("write %s: %w", name, err)
	} else if n < len(data) {
		return false, fmt.Errorf("write %s: %w", name, io.ErrShortWrite)
	}
	if err := r.step(step + ".sync"); err != nil {
		return false, err
	}
	if err := f.Sync(); err != nil {
		return false, fmt.Errorf("sync %s: %w", name, err)
	}
	if err := r.step(step + ".close"); err != nil {
		return false, err
	}
	closed = true
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("close %s: %w", name, err)
	}
	if err := r.step(step + ".rename"); err != nil {
		return false, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return false, err
	}
	renamed = true
	if onRename != nil {
		onRename()
	}
	if err := r.step(step + ".syncdir"); err != nil {
		return true, err
	}
	if err := syncDir(dir); err != nil {
		return true, fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return true, nil
}

// removeDurably removes dir/name and syncs dir.
func (r *Registry) removeDurably(dir, name, step string) error {
	if err := r.step(step + ".remove"); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := r.step(step + ".syncdir"); err != nil {
		return err
	}
	return syncDir(dir)
}
