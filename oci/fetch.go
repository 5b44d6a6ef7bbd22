package oci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"
)

// fetchManifest resolves target (a tag or a digest) in repo and reads its
// manifest: at most MaxManifestSize bytes, of the digest and size the
// registry announced, and of the digest target names when it is one.
func (c *Client) fetchManifest(ctx context.Context, repo *remote.Repository, target string) (Descriptor, []byte, error) {
	d, err := repo.Resolve(ctx, target)
	if err != nil {
		return Descriptor{}, nil, fmt.Errorf("resolve %s: %w", target, classify(err))
	}
	desc := Descriptor{MediaType: d.MediaType, Digest: d.Digest.String(), Size: d.Size}
	if err := checkDigest(desc.Digest); err != nil {
		return desc, nil, fmt.Errorf("resolve %s: %w: the registry gave the digest %s: %v", target, ErrRegistry, quote(desc.Digest), err)
	}
	if strings.HasPrefix(target, "sha256:") && desc.Digest != target {
		return desc, nil, fmt.Errorf("resolve %s: %w: the registry answered with %s", target, ErrDigest, desc.Digest)
	}
	if desc.MediaType != ManifestMediaType {
		return desc, nil, fmt.Errorf("manifest %s: %w: media type %s, want %s", desc.Digest, ErrArtifactType, quote(desc.MediaType), ManifestMediaType)
	}
	if desc.Size > c.opts.MaxManifestSize {
		return desc, nil, fmt.Errorf("manifest %s: %w: %d bytes, the limit is %d", desc.Digest, ErrTooLarge, desc.Size, c.opts.MaxManifestSize)
	}
	if desc.Size <= 0 {
		return desc, nil, fmt.Errorf("manifest %s: %w: the registry gave the size %d", desc.Digest, ErrRegistry, desc.Size)
	}
	rc, err := repo.Manifests().Fetch(ctx, d)
	if err != nil {
		return desc, nil, fmt.Errorf("manifest %s: %w", desc.Digest, classify(err))
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, desc.Size+1))
	if err != nil {
		return desc, nil, fmt.Errorf("manifest %s: %w", desc.Digest, classify(err))
	}
	if int64(len(data)) != desc.Size {
		return desc, nil, fmt.Errorf("manifest %s: %w: %d bytes, announced %d", desc.Digest, ErrDigest, len(data), desc.Size)
	}
	if got := digestOf(data); got != desc.Digest {
		return desc, nil, fmt.Errorf("manifest %s: %w: the bytes received have the digest %s", desc.Digest, ErrDigest, got)
	}
	return desc, data, nil
}

// fetchSmallBlob reads the blob desc, of at most max bytes, into memory
// and checks its size and digest.
func (c *Client) fetchSmallBlob(ctx context.Context, repo *remote.Repository, desc Descriptor, max int64) ([]byte, error) {
	if desc.Size > max {
		return nil, fmt.Errorf("blob %s: %w: %d bytes, the limit is %d", desc.Digest, ErrTooLarge, desc.Size, max)
	}
	rc, err := repo.Blobs().Fetch(ctx, toOCI(desc))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, classify(err))
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, desc.Size+1))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, classify(err))
	}
	if int64(len(data)) != desc.Size {
		return nil, fmt.Errorf("blob %s: %w: %d bytes or more, announced %d", desc.Digest, ErrDigest, len(data), desc.Size)
	}
	if got := digestOf(data); got != desc.Digest {
		return nil, fmt.Errorf("blob %s: %w: the bytes received have the digest %s", desc.Digest, ErrDigest, got)
	}
	return data, nil
}

// fetchBlob streams the blob desc into the cache and returns its path
// there. The bytes go to a temporary file in the cache folder; only when
// their size and digest are desc's, and check (if not nil) accepts the
// file, is it renamed to blobs/sha256/<hex>. A cached blob is hashed again
// and checked before it is used; one that does not match is removed and
// fetched again.
func (c *Client) fetchBlob(ctx context.Context, repo *remote.Repository, desc Descriptor, label string, check func(path string) error) (string, error) {
	if c.opts.Cache == "" {
		return "", fmt.Errorf("blob %s: no cache folder", desc.Digest)
	}
	if desc.Size > c.opts.MaxBlobSize {
		return "", fmt.Errorf("blob %s: %w: %d bytes, the limit is %d", desc.Digest, ErrTooLarge, desc.Size, c.opts.MaxBlobSize)
	}
	dir := filepath.Join(c.opts.Cache, "blobs", "sha256")
	path := filepath.Join(dir, strings.TrimPrefix(desc.Digest, "sha256:"))
	if ok, err := cachedBlob(path, desc); err != nil {
		return "", err
	} else if ok {
		if check != nil {
			if err := check(path); err != nil {
				return "", err
			}
		}
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("blob cache: %w", err)
	}
	removeStaleTemps(dir)
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("blob cache: %w", err)
	}
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	rc, err := repo.Blobs().Fetch(ctx, toOCI(desc))
	if err != nil {
		return "", fmt.Errorf("blob %s: %w", desc.Digest, classify(err))
	}
	defer rc.Close()
	h := sha256.New()
	var w io.Writer = io.MultiWriter(tmp, h)
	if c.opts.Progress != nil {
		p := c.opts.Progress(label, desc.Size)
		defer p.Close()
		w = io.MultiWriter(w, p)
	}
	n, err := io.Copy(w, io.LimitReader(rc, desc.Size+1))
	if err != nil {
		return "", fmt.Errorf("blob %s: %w", desc.Digest, classify(err))
	}
	if n > desc.Size {
		return "", fmt.Errorf("blob %s: %w: %d bytes or more, announced %d", desc.Digest, ErrDigest, n, desc.Size)
	}
	if n < desc.Size {
		return "", fmt.Errorf("blob %s: %w: %d bytes, announced %d", desc.Digest, ErrDigest, n, desc.Size)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != desc.Digest {
		return "", fmt.Errorf("blob %s: %w: the bytes received have the digest %s", desc.Digest, ErrDigest, got)
	}
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("blob cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("blob cache: %w", err)
	}
	if check != nil {
		if err := check(tmp.Name()); err != nil {
			return "", err
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("blob cache: %w", err)
	}
	keep = true
	return path, nil
}

// cachedBlob reports whether path holds the blob desc. A file there with
// other bytes is removed.
func cachedBlob(path string, desc Descriptor) (bool, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("blob cache: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, desc.Size+1))
	if err != nil {
		return false, fmt.Errorf("blob cache: %w", err)
	}
	if n == desc.Size && "sha256:"+hex.EncodeToString(h.Sum(nil)) == desc.Digest {
		return true, nil
	}
	f.Close()
	if err := os.Remove(path); err != nil {
		return false, fmt.Errorf("blob cache: remove %s, which does not match its name: %w", path, err)
	}
	return false, nil
}

// pushBlob pushes data as the blob desc unless the registry has it.
func (c *Client) pushBlob(ctx context.Context, repo *remote.Repository, desc Descriptor, data []byte, label string) error {
	od := toOCI(desc)
	ok, err := repo.Blobs().Exists(ctx, od)
	if err != nil {
		return fmt.Errorf("blob %s: %w", desc.Digest, classify(err))
	}
	if ok {
		return nil
	}
	var r io.Reader = bytes.NewReader(data)
	if c.opts.Progress != nil && label != "" {
		p := c.opts.Progress(label, desc.Size)
		defer p.Close()
		r = io.TeeReader(r, p)
	}
	if err := repo.Blobs().Push(ctx, od, r); err != nil {
		return fmt.Errorf("push blob %s: %w", desc.Digest, classify(err))
	}
	return nil
}

func toOCI(d Descriptor) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: d.MediaType, Digest: digestFrom(d.Digest), Size: d.Size, ArtifactType: d.ArtifactType, Annotations: d.Annotations}
}

// staleAge is the age past which a temporary file in the cache belongs to
// no running pull: a process killed during a transfer left it.
const staleAge = 24 * time.Hour

// removeStaleTemps removes the temporary files in dir older than staleAge.
func removeStaleTemps(dir string) {
	names, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	for _, n := range names {
		if fi, err := os.Lstat(n); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > staleAge {
			os.Remove(n)
		}
	}
}
