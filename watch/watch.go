// Package watch reloads a running plugin when its source changes: a
// plugin folder or package file, or the plugin's entry in the local
// registry. It drives a runtime.Reloadable, which does the atomic swap;
// this package only decides when.
//
//	rl, err := rt.LoadReloadable(ctx, "plugins/hello", lc)
//	go watch.Path(ctx, rl, "plugins/hello", watch.Options{Report: report})
//	out, err := rl.Call(ctx, "greet", input) // always the current version
//
// Editors save a file in several writes, a rename or a chmod: changes are
// debounced (Options.Debounce) so that one save is one reload. Files are
// watched with fsnotify (inotify, kqueue, ReadDirectoryChangesW); a folder
// is watched without its subfolders.
//
// Registry follows an installed plugin: a new version installed by any
// process is swapped in, and the plugin's quarantine is kept in the
// registry's index both ways, so that `vitte plugin list` shows it and
// `vitte plugin release` lifts it. See docs/reload.md.
package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

// DefaultDebounce is how long a source must stay unchanged after a change
// before the reload: editors' saves (write, rename, chmod) take a few
// milliseconds; a build that writes several files, a little more.
const DefaultDebounce = 100 * time.Millisecond

// Options configure a watch. The zero value is ready.
type Options struct {
	// Debounce is how long the source must stay unchanged after a change
	// before the reload (default DefaultDebounce).
	Debounce time.Duration
	// Build, when set, runs before each reload, to turn the source
	// watched into the plugin reloaded (a compiler). When it fails, the
	// reload is skipped and Report gets its error.
	Build func(ctx context.Context) error
	// Report, when set, gets the outcome of each attempt: nil once the new
	// version serves calls, or why it does not (the build failed, the
	// reload was refused). The Reloadable's events say more.
	Report func(error)
	// Watching, when set, is called once the source is watched: changes
	// from then on are seen.
	Watching func()
	// Match, when set, chooses the changed files that cause a reload, by
	// their path. By default every file but hidden ones (".name") and
	// editors' backups ("name~", ".swp", ".tmp").
	Match func(path string) bool
}

func (o Options) debounce() time.Duration {
	if o.Debounce <= 0 {
		return DefaultDebounce
	}
	return o.Debounce
}

func (o Options) report(err error) {
	if o.Report != nil {
		o.Report(err)
	}
}

// Ignored reports whether the file path is one the default Match skips:
// hidden files (temporary files of editors and of atomic writes) and
// backups.
func Ignored(path string) bool {
	b := filepath.Base(path)
	return strings.HasPrefix(b, ".") || strings.HasSuffix(b, "~") ||
		strings.HasSuffix(b, ".swp") || strings.HasSuffix(b, ".swx") || strings.HasSuffix(b, ".tmp")
}

// Path reloads rl (Reloadable.Reload) after each change of path, a plugin
// folder (its files, not its subfolders) or a .vitplug file, until ctx is
// done; then it returns nil. It fails at once if path cannot be watched.
// Reloads run one at a time, on the goroutine that called Path.
func Path(ctx context.Context, rl *runtime.Reloadable, path string, opts Options) error {
	return Paths(ctx, []string{path}, opts, func(ctx context.Context) error { return rl.Reload(ctx) })
}

// Paths calls reload after each change of one of paths (files or folders,
// a folder without its subfolders), debounced, until ctx is done; then it
// returns nil. Options.Build runs before reload; Options.Report gets the
// outcome. It fails at once if a path cannot be watched.
//
// A file is watched through its folder, so that an editor replacing it
// (write to a temporary file, rename over) is seen.
func Paths(ctx context.Context, paths []string, opts Options, reload func(ctx context.Context) error) error {
	return loop(ctx, paths, opts, nil, func(ctx context.Context) {
		if opts.Build != nil {
			if err := opts.Build(ctx); err != nil {
				opts.report(err)
				return
			}
		}
		opts.report(reload(ctx))
	})
}

// loop runs action after each change of paths, debounced, and at once
// after each receive from kick, until ctx is done.
func loop(ctx context.Context, paths []string, opts Options, kick <-chan struct{}, action func(context.Context)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", strings.Join(paths, ", "), err)
	}
	defer w.Close()
	// files are the paths that are files, watched through their folders;
	// events of the folder's other files are not theirs.
	files := map[string]bool{}
	dirs := map[string]bool{}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return fmt.Errorf("watch %s: %w", p, err)
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return fmt.Errorf("watch %s: %w", p, err)
		}
		dir := abs
		if !fi.IsDir() {
			files[abs] = true
			dir = filepath.Dir(abs)
		} else {
			dirs[abs] = true
		}
		if err := w.Add(dir); err != nil {
			return fmt.Errorf("watch %s: %w", p, err)
		}
	}
	match := opts.Match
	if match == nil {
		match = func(p string) bool { return !Ignored(p) }
	}
	relevant := func(name string) bool {
		if !files[name] && !dirs[filepath.Dir(name)] {
			return false // another file of a watched file's folder
		}
		return match(name)
	}

	if opts.Watching != nil {
		opts.Watching()
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
			action(ctx)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			opts.report(fmt.Errorf("watch: %w", err))
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				timer.Reset(opts.debounce()) // changes were lost: reload to be safe
			}
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Op == fsnotify.Chmod || !relevant(ev.Name) {
				continue
			}
			timer.Reset(opts.debounce())
		case <-timer.C:
			if ctx.Err() != nil {
				return nil
			}
			action(ctx)
		}
	}
}
