package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/vitte-lang/vitte-plugin/internal/boundedfile"
)

// Names in the registry folder.
const (
	indexName = "index.json"
	lockName  = "lock"
	storeDir  = "store"
	// tmpPrefix starts the name of every temporary file; one left by a
	// killed process is removed by the next Open.
	tmpPrefix = ".tmp-"
	// packageExt ends the name of every package in the store.
	packageExt = ".vitplug"
	// indexVersion is the version of the index format this package writes
	// and reads.
	indexVersion = 1
	// maxIndexSize bounds the index file read.
	maxIndexSize = 64 << 20
)

var storeNameRE = regexp.MustCompile(`^[0-9a-f]{64}\.vitplug$`)

func storeRel(sum string) string { return storeDir + "/" + sum + packageExt }

// index is the index file.
type index struct {
	Version int `json:"version"`
	// Generation counts the writes of the index.
	Generation uint64  `json:"generation"`
	Plugins    []Entry `json:"plugins"`
}

func (x *index) get(name string) (Entry, bool) {
	i := slices.IndexFunc(x.Plugins, func(e Entry) bool { return e.Name == name })
	if i < 0 {
		return Entry{}, false
	}
	return x.Plugins[i], true
}

// put adds or replaces e, keeping the plugins sorted by name.
func (x *index) put(e Entry) {
	i, found := slices.BinarySearchFunc(x.Plugins, e.Name, func(a Entry, n string) int { return strings.Compare(a.Name, n) })
	if found {
		x.Plugins[i] = e
		return
	}
	x.Plugins = slices.Insert(x.Plugins, i, e)
}

func (x *index) remove(name string) {
	x.Plugins = slices.DeleteFunc(x.Plugins, func(e Entry) bool { return e.Name == name })
}

func (x *index) clone() index {
	c := *x
	c.Plugins = make([]Entry, len(x.Plugins))
	for i, e := range x.Plugins {
		c.Plugins[i] = e.clone()
	}
	return c
}

// storeFiles returns the store names ("<sha256>.vitplug") the index
// refers to.
func (x *index) storeFiles() map[string]bool {
	m := make(map[string]bool, len(x.Plugins))
	for _, e := range x.Plugins {
		m[e.SHA256+packageExt] = true
	}
	return m
}

func (x *index) marshal() ([]byte, error) {
	b, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// readIndex reads the index of the registry in dir: the empty index when
// there is no file yet. It needs no lock: the file is only ever replaced
// whole, by a rename.
func readIndex(dir string) (index, []byte, error) {
	data, err := boundedfile.Read(filepath.Join(dir, indexName), maxIndexSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return index{Version: indexVersion}, nil, nil
	case errors.Is(err, boundedfile.ErrTooLarge):
		return index{}, nil, fmt.Errorf("read index: %w: %w", ErrCorrupt, err)
	case err != nil:
		return index{}, nil, fmt.Errorf("read index: %w", err)
	}
	x, err := parseIndex(data)
	if err != nil {
		return index{}, nil, fmt.Errorf("read index %s: %w: %w", filepath.Join(dir, indexName), ErrCorrupt, err)
	}
	return x, data, nil
}

func parseIndex(data []byte) (index, error) {
	var x index
	var probe struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return x, err
	}
	if probe.Version != indexVersion {
		return x, fmt.Errorf("index version %d, want %d (written by another vitte?)", probe.Version, indexVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&x); err != nil {
		return x, err
	}
	seen := map[string]bool{}
	for i, e := range x.Plugins {
		switch {
		case e.Name == "" || seen[e.Name]:
			return x, fmt.Errorf("plugin %d: empty or duplicate name %q", i, e.Name)
		case i > 0 && x.Plugins[i-1].Name > e.Name:
			return x, fmt.Errorf("plugins not sorted by name at %q", e.Name)
		case !storeNameRE.MatchString(e.SHA256 + packageExt):
			// The name becomes a path: never let it be anything else.
			return x, fmt.Errorf("plugin %q: bad sha256 %q", e.Name, e.SHA256)
		}
		seen[e.Name] = true
		x.Plugins[i].normalize()
	}
	return x, nil
}
