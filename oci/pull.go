package oci

import (
	"context"
	"fmt"

	"github.com/Masterminds/semver/v3"
	"github.com/opencontainers/go-digest"

	"github.com/vitte-lang/vitte-plugin/vitplug"
)

func digestFrom(s string) digest.Digest { return digest.Digest(s) }

// Pulled is a package fetched from a registry, in the blob cache.
type Pulled struct {
	// Ref is the reference pulled, with both the tag (the version) and
	// the manifest's digest.
	Ref Reference
	// Manifest is the plugin manifest's descriptor.
	Manifest Descriptor
	// Info is what the manifest says about the package, checked against
	// the package.
	Info PluginInfo
	// Path is the package file in the cache, named by its digest. It was
	// checked: size, digest, a valid .vitplug whose name, version and
	// content id are the manifest's.
	Path string
}

// Pull fetches the plugin package ref names (by tag, or by digest) into
// the blob cache. The manifest must be the spec's: artifactType
// application/vnd.vitte.plugin.v1, the empty config, exactly one layer of
// application/vnd.vitte.plugin.v1+zip, and the annotations; a tag must be
// a semantic version and the manifest's version. The blob is streamed to
// a temporary file, checked (size, digest, then opened with vitplug and
// compared with the annotations) and only then renamed into the cache.
//
// Errors name the reference and wrap ErrReference, ErrVersion,
// ErrArtifactType, ErrManifest, ErrDigest, ErrTooLarge, ErrPackage,
// ErrNotFound, ErrUnauthorized, ErrRegistry or the context's error.
func (c *Client) Pull(ctx context.Context, ref Reference) (*Pulled, error) {
	p, err := c.pull(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	return p, nil
}

func (c *Client) pull(ctx context.Context, ref Reference) (*Pulled, error) {
	if ref.Tag == "" && ref.Digest == "" {
		return nil, fmt.Errorf("%w: no version: add :VERSION or @sha256:DIGEST", ErrReference)
	}
	if ref.Tag != "" {
		if _, err := semver.StrictNewVersion(ref.Tag); err != nil {
			return nil, fmt.Errorf("%w: the tag %s is not a semantic version (MAJOR.MINOR.PATCH)", ErrVersion, quote(ref.Tag))
		}
	}
	repo, err := c.repo(ref)
	if err != nil {
		return nil, err
	}
	mdesc, data, err := c.fetchManifest(ctx, repo, ref.target())
	if err != nil {
		return nil, err
	}
	info, err := parsePluginManifest(data)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", mdesc.Digest, err)
	}
	if ref.Tag != "" && info.Version != ref.Tag {
		return nil, fmt.Errorf("%w: the tag is %s, the manifest's version %s", ErrVersion, ref.Tag, quote(info.Version))
	}
	label := fmt.Sprintf("pull %s %s", info.Name, info.Version)
	path, err := c.fetchBlob(ctx, repo, info.Layer, label, func(path string) error {
		return checkPackage(path, info)
	})
	if err != nil {
		return nil, err
	}
	out := ref
	out.Tag, out.Digest = info.Version, mdesc.Digest
	return &Pulled{Ref: out, Manifest: mdesc, Info: info, Path: path}, nil
}

// checkPackage opens the package at path and checks it is what info says.
func checkPackage(path string, info PluginInfo) error {
	pkg, err := vitplug.OpenFile(path, vitplug.Limits{})
	if err != nil {
		return fmt.Errorf("%w: blob %s: %w", ErrPackage, info.Layer.Digest, err)
	}
	m := pkg.Manifest()
	switch {
	case m.Plugin.Name != info.Name:
		return fmt.Errorf("%w: the package is %q, the manifest says %s", ErrPackage, m.Plugin.Name, quote(info.Name))
	case m.Plugin.Version != info.Version:
		return fmt.Errorf("%w: the package's version is %s, the manifest says %s", ErrPackage, m.Plugin.Version, quote(info.Version))
	case pkg.ContentID() != info.ContentID:
		return fmt.Errorf("%w: the package's content id is %s, the manifest says %s", ErrPackage, pkg.ContentID(), quote(info.ContentID))
	}
	return nil
}
