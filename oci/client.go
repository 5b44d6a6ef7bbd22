package oci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"
	"oras.land/oras-go/v2/registry/remote/retry"

	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// Default limits. See [Options].
const (
	DefaultMaxManifestSize  int64 = 1 << 20
	DefaultMaxBlobSize            = vitplug.DefaultMaxSize
	DefaultMaxSignatureSize int64 = 64 << 10
	DefaultMaxSignatures          = 64
	DefaultMaxTagPages            = 100
)

// Options configures a [Client]. Zero values take the defaults; only
// Cache has none, and is needed by [Client.Pull].
type Options struct {
	// Cache is the folder of the content-addressed blob cache
	// (blobs/sha256/<hex>). See [DefaultCacheDir].
	Cache string
	// PlainHTTP talks HTTP instead of HTTPS to every registry. Without
	// it, only loopback registries ([Reference.IsLoopback]) use HTTP.
	PlainHTTP bool
	// Credentials returns the user name and password for a registry
	// (host[:port]); "" and "" for none. Nil: anonymous. See
	// [DefaultCredentials].
	Credentials func(ctx context.Context, registry string) (user, password string, err error)
	// HTTPClient sends the requests. Nil: an HTTP client that retries on
	// 5xx, 429 and connection resets (oras-go's retry transport), with a
	// 30 s limit on connecting and on waiting for response headers.
	// Whole operations are bounded by their context.
	HTTPClient *http.Client
	// MaxManifestSize is the largest manifest or referrers index read.
	// Default DefaultMaxManifestSize.
	MaxManifestSize int64
	// MaxBlobSize is the largest package blob read or pushed. Default
	// DefaultMaxBlobSize, the largest package vitplug opens.
	MaxBlobSize int64
	// MaxSignatureSize is the largest signature layer read. Default
	// DefaultMaxSignatureSize.
	MaxSignatureSize int64
	// MaxSignatures is the most signature artifacts read for one package.
	// Default DefaultMaxSignatures.
	MaxSignatures int
	// MaxTagPages is the most pages of the tag list read. Default
	// DefaultMaxTagPages.
	MaxTagPages int
	// Progress, when not nil, is called when a blob transfer starts; the
	// bytes transferred are written to what it returns, which is closed
	// at the end. label is "push NAME VERSION" or "pull NAME VERSION".
	Progress func(label string, size int64) io.WriteCloser
}

func (o Options) withDefaults() Options {
	if o.MaxManifestSize <= 0 {
		o.MaxManifestSize = DefaultMaxManifestSize
	}
	if o.MaxBlobSize <= 0 {
		o.MaxBlobSize = DefaultMaxBlobSize
	}
	if o.MaxSignatureSize <= 0 {
		o.MaxSignatureSize = DefaultMaxSignatureSize
	}
	if o.MaxSignatures <= 0 {
		o.MaxSignatures = DefaultMaxSignatures
	}
	if o.MaxTagPages <= 0 {
		o.MaxTagPages = DefaultMaxTagPages
	}
	if o.HTTPClient == nil {
		o.HTTPClient = defaultHTTPClient()
	}
	return o
}

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{Transport: retry.NewTransport(t)}
}

// Client pushes and pulls plugin packages and their signatures in OCI
// registries, in the layout of docs/spec/package-v1.md ("Registry
// artifacts (OCI)"). It is safe for concurrent use.
type Client struct {
	opts  Options
	cache auth.Cache
}

// NewClient returns a client with opts.
func NewClient(opts Options) *Client {
	return &Client{opts: opts.withDefaults(), cache: auth.NewCache()}
}

// DefaultCacheDir returns the user's blob cache: $XDG_CACHE_HOME/vitte/oci
// or its platform equivalent (os.UserCacheDir).
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("blob cache: %w", err)
	}
	return filepath.Join(d, "vitte", "oci"), nil
}

// DefaultCredentials returns the credentials of VITTE_REGISTRY_USER and
// VITTE_REGISTRY_PASSWORD when the first is set (for every registry), and
// otherwise those of the Docker configuration ($DOCKER_CONFIG/config.json
// or ~/.docker/config.json, with its credential helpers), through oras-go's
// credential store.
func DefaultCredentials() (func(ctx context.Context, registry string) (string, string, error), error) {
	if user := os.Getenv("VITTE_REGISTRY_USER"); user != "" {
		pass := os.Getenv("VITTE_REGISTRY_PASSWORD")
		return func(context.Context, string) (string, string, error) { return user, pass, nil }, nil
	}
	store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
	if err != nil {
		return nil, fmt.Errorf("docker credentials: %w", err)
	}
	get := credentials.Credential(store)
	return func(ctx context.Context, registry string) (string, string, error) {
		c, err := get(ctx, registry)
		if err != nil {
			return "", "", fmt.Errorf("docker credentials for %s: %w", registry, err)
		}
		if c.RefreshToken != "" && c.Username == "" {
			return "<token>", c.RefreshToken, nil
		}
		return c.Username, c.Password, nil
	}, nil
}

// repo returns the oras-go repository of ref.
func (c *Client) repo(ref Reference) (*remote.Repository, error) {
	r, err := remote.NewRepository(ref.orasRepo())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrReference, err)
	}
	r.PlainHTTP = c.opts.PlainHTTP || ref.IsLoopback()
	r.MaxMetadataBytes = c.opts.MaxManifestSize
	r.TagListMaxPages = c.opts.MaxTagPages
	r.ReferrerListMaxPages = c.opts.MaxTagPages
	client := &auth.Client{Client: c.opts.HTTPClient, Cache: c.cache}
	client.SetUserAgent("vitte-plugin")
	if c.opts.Credentials != nil {
		creds := c.opts.Credentials
		client.Credential = func(ctx context.Context, hostport string) (auth.Credential, error) {
			u, p, err := creds(ctx, hostport)
			if err != nil {
				return auth.EmptyCredential, err
			}
			return auth.Credential{Username: u, Password: p}, nil
		}
	}
	r.Client = client
	return r, nil
}

// classify wraps a transport or registry error with the sentinel its
// status says: ErrNotFound, ErrUnauthorized or ErrRegistry. Context errors
// and errors of this package pass as they are.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	for _, s := range []error{ErrReference, ErrVersion, ErrArtifactType, ErrManifest, ErrDigest, ErrTooLarge, ErrPackage, ErrNotFound, ErrUnauthorized, ErrRegistry} {
		if errors.Is(err, s) {
			return err
		}
	}
	var er *errcode.ErrorResponse
	if errors.As(err, &er) {
		switch {
		case er.StatusCode == http.StatusUnauthorized || er.StatusCode == http.StatusForbidden:
			return fmt.Errorf("%w: %w", ErrUnauthorized, err)
		case er.StatusCode == http.StatusNotFound:
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return fmt.Errorf("%w: %w", ErrRegistry, err)
	}
	if errors.Is(err, auth.ErrBasicCredentialNotFound) {
		return fmt.Errorf("%w: the registry asks for credentials and none were given: %w", ErrUnauthorized, err)
	}
	if errors.Is(err, errdef.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if errors.Is(err, errdef.ErrSizeExceedsLimit) {
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	return fmt.Errorf("%w: %w", ErrRegistry, err)
}
