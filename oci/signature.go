package oci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// PushSignature pushes the minisign signature sig (the .minisig text) as
// a signature artifact about the plugin manifest ref names (by tag or
// digest): artifactType application/vnd.vitte.signature.v1+minisign, one
// layer of that media type, subject the plugin manifest. The registry's
// referrers API indexes it, or, for a registry without one, oras-go
// updates the referrers index tagged sha256-<hex of the manifest digest>.
// It returns the signature manifest's descriptor.
//
// The signature is not checked here: it is checked, against the trust
// policy, by whoever installs the package.
func (c *Client) PushSignature(ctx context.Context, ref Reference, sig []byte) (Descriptor, error) {
	d, err := c.pushSignature(ctx, ref, sig)
	if err != nil {
		return Descriptor{}, fmt.Errorf("push signature to %s: %w", ref, err)
	}
	return d, nil
}

func (c *Client) pushSignature(ctx context.Context, ref Reference, sig []byte) (Descriptor, error) {
	if ref.Tag == "" && ref.Digest == "" {
		return Descriptor{}, fmt.Errorf("%w: no version: add :VERSION or @sha256:DIGEST", ErrReference)
	}
	if int64(len(sig)) > c.opts.MaxSignatureSize {
		return Descriptor{}, fmt.Errorf("%w: the signature is %d bytes, the limit is %d", ErrTooLarge, len(sig), c.opts.MaxSignatureSize)
	}
	if len(sig) == 0 || !utf8.Valid(sig) {
		return Descriptor{}, errors.New("the signature is empty or not UTF-8 text")
	}
	repo, err := c.repo(ref)
	if err != nil {
		return Descriptor{}, err
	}
	subject, data, err := c.fetchManifest(ctx, repo, ref.target())
	if err != nil {
		return Descriptor{}, err
	}
	info, err := parsePluginManifest(data)
	if err != nil {
		return Descriptor{}, fmt.Errorf("manifest %s: %w", subject.Digest, err)
	}
	if ref.Tag != "" && info.Version != ref.Tag {
		return Descriptor{}, fmt.Errorf("%w: the tag is %s, the manifest's version %s", ErrVersion, ref.Tag, quote(info.Version))
	}
	layer := Descriptor{MediaType: SignatureType, Digest: digestOf(sig), Size: int64(len(sig))}
	manifestJSON, err := signatureManifest(layer, subject)
	if err != nil {
		return Descriptor{}, err
	}
	mdesc := Descriptor{MediaType: ManifestMediaType, Digest: digestOf(manifestJSON), Size: int64(len(manifestJSON)), ArtifactType: SignatureType}
	if err := c.pushBlob(ctx, repo, emptyConfig(), emptyJSON, ""); err != nil {
		return Descriptor{}, err
	}
	if err := c.pushBlob(ctx, repo, layer, sig, ""); err != nil {
		return Descriptor{}, err
	}
	if err := repo.Push(ctx, toOCI(mdesc), bytes.NewReader(manifestJSON)); err != nil {
		return Descriptor{}, fmt.Errorf("push signature manifest: %w", classify(err))
	}
	return mdesc, nil
}

// Signatures returns the text of every signature artifact about the
// plugin manifest manifest in ref's repository, found through the
// referrers API or its tag fallback. Each artifact must be the spec's
// (ErrArtifactType, ErrManifest otherwise), about this manifest, with a
// layer of at most MaxSignatureSize bytes of its digest; there may be at
// most MaxSignatures of them (ErrTooLarge).
func (c *Client) Signatures(ctx context.Context, ref Reference, manifest Descriptor) ([][]byte, error) {
	sigs, err := c.signatures(ctx, ref, manifest)
	if err != nil {
		return nil, fmt.Errorf("signatures of %s: %w", ref.Repo().WithDigest(manifest.Digest), err)
	}
	return sigs, nil
}

func (c *Client) signatures(ctx context.Context, ref Reference, manifest Descriptor) ([][]byte, error) {
	repo, err := c.repo(ref)
	if err != nil {
		return nil, err
	}
	var found []ocispec.Descriptor
	err = repo.Referrers(ctx, toOCI(manifest), SignatureType, func(rs []ocispec.Descriptor) error {
		found = append(found, rs...)
		if len(found) > c.opts.MaxSignatures {
			return fmt.Errorf("%w: more than %d signatures", ErrTooLarge, c.opts.MaxSignatures)
		}
		return nil
	})
	if err != nil {
		return nil, classify(err)
	}
	seen := map[string]bool{}
	var sigs [][]byte
	for _, d := range found {
		ds := d.Digest.String()
		if seen[ds] {
			continue
		}
		seen[ds] = true
		if err := checkDigest(ds); err != nil {
			return nil, fmt.Errorf("%w: referrer %s: %v", ErrManifest, quote(ds), err)
		}
		_, data, err := c.fetchManifest(ctx, repo, ds)
		if err != nil {
			return nil, err
		}
		layer, err := parseSignatureManifest(data, manifest.Digest)
		if err != nil {
			return nil, fmt.Errorf("signature %s: %w", ds, err)
		}
		sig, err := c.fetchSmallBlob(ctx, repo, layer, c.opts.MaxSignatureSize)
		if err != nil {
			return nil, fmt.Errorf("signature %s: %w", ds, err)
		}
		sigs = append(sigs, sig)
	}
	return sigs, nil
}
