package oci

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/vitte-lang/vitte-plugin/internal/boundedfile"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// PushOptions configures one [Client.Push].
type PushOptions struct {
	// Force moves a tag that names another manifest already. Without it,
	// a version once pushed keeps its content: pushing other bytes under
	// the same tag fails with ErrVersion.
	Force bool
}

// Push pushes the .vitplug package at path to ref, whose tag must be the
// package's version (ErrVersion otherwise) and which must not have a
// digest. It pushes the empty config and the package blob unless the
// registry has them, then the manifest, tagged. Pushing the same package
// again changes nothing. It returns the manifest's descriptor.
func (c *Client) Push(ctx context.Context, path string, ref Reference, opts PushOptions) (Descriptor, error) {
	d, err := c.push(ctx, path, ref, opts)
	if err != nil {
		return Descriptor{}, fmt.Errorf("push %s to %s: %w", path, ref, err)
	}
	return d, nil
}

func (c *Client) push(ctx context.Context, path string, ref Reference, opts PushOptions) (Descriptor, error) {
	if ref.Tag == "" || ref.Digest != "" {
		return Descriptor{}, fmt.Errorf("%w: push needs a tag, the package's version, and no digest", ErrReference)
	}
	data, err := readFile(path, c.opts.MaxBlobSize)
	if err != nil {
		return Descriptor{}, err
	}
	pkg, err := vitplug.Open(bytes.NewReader(data), int64(len(data)), vitplug.Limits{})
	if err != nil {
		return Descriptor{}, fmt.Errorf("%w: %w", ErrPackage, err)
	}
	m := pkg.Manifest()
	if ref.Tag != m.Plugin.Version {
		return Descriptor{}, fmt.Errorf("%w: the tag is %s, the package's version %s: the tag must be the version", ErrVersion, quote(ref.Tag), m.Plugin.Version)
	}
	info := PluginInfo{
		Name:      m.Plugin.Name,
		Version:   m.Plugin.Version,
		ContentID: pkg.ContentID(),
		Title:     fmt.Sprintf("%s-%s.vitplug", m.Plugin.Name, m.Plugin.Version),
		Layer:     Descriptor{MediaType: LayerMediaType, Digest: digestOf(data), Size: int64(len(data))},
	}
	manifestJSON, err := pluginManifest(info)
	if err != nil {
		return Descriptor{}, err
	}
	mdesc := Descriptor{MediaType: ManifestMediaType, Digest: digestOf(manifestJSON), Size: int64(len(manifestJSON))}
	repo, err := c.repo(ref)
	if err != nil {
		return Descriptor{}, err
	}
	if !opts.Force {
		old, err := repo.Resolve(ctx, ref.Tag)
		switch err := classify(err); {
		case err == nil && old.Digest.String() != mdesc.Digest:
			return Descriptor{}, fmt.Errorf("%w: %s names another manifest already (%s): a version's content does not change (--force moves the tag)", ErrVersion, ref.Tag, old.Digest)
		case err != nil && !errors.Is(err, ErrNotFound):
			return Descriptor{}, fmt.Errorf("resolve %s: %w", ref.Tag, err)
		}
	}
	if err := c.pushBlob(ctx, repo, emptyConfig(), emptyJSON, ""); err != nil {
		return Descriptor{}, err
	}
	if err := c.pushBlob(ctx, repo, info.Layer, data, fmt.Sprintf("push %s %s", info.Name, info.Version)); err != nil {
		return Descriptor{}, err
	}
	if err := repo.PushReference(ctx, toOCI(mdesc), bytes.NewReader(manifestJSON), ref.Tag); err != nil {
		return Descriptor{}, fmt.Errorf("push manifest: %w", classify(err))
	}
	return mdesc, nil
}

// readFile reads the regular file path, of at most max bytes; a larger
// one wraps ErrTooLarge.
func readFile(path string, max int64) ([]byte, error) {
	data, err := boundedfile.Read(path, max)
	if errors.Is(err, boundedfile.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	return data, err
}
