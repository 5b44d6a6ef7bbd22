// Package ocitest starts a real OCI registry for tests: Debian's
// docker-registry (CNCF distribution 2.8), on 127.0.0.1 and a free port,
// with a configuration file of its own and a temporary storage folder,
// never the package's service (whose configuration listens on every
// interface, port 5000).
//
// scripts/install-toolchains.sh installs the binary. Without it, Require
// skips the test, except in CI (CI=true, set by .ci/run), where it fails.
package ocitest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Options configures a registry.
type Options struct {
	// Users, when not empty, turns on htpasswd (basic) authentication with
	// these user names and passwords, hashed with bcrypt's minimum cost
	// (the registry checks the hash on every request).
	Users map[string]string
}

// Registry is a running docker-registry.
type Registry struct {
	// Host is "127.0.0.1:PORT".
	Host string
	// Dir holds the configuration, the htpasswd file and the storage.
	Dir string

	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	once sync.Once
}

// Binary returns the path of docker-registry: $VITTE_DOCKER_REGISTRY, or
// docker-registry on $PATH, or /usr/bin/docker-registry.
func Binary() (string, error) {
	if p := os.Getenv("VITTE_DOCKER_REGISTRY"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("docker-registry: $VITTE_DOCKER_REGISTRY: %w", err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("docker-registry"); err == nil {
		return p, nil
	}
	const deb = "/usr/bin/docker-registry"
	if _, err := os.Stat(deb); err == nil {
		return deb, nil
	}
	return "", errors.New("docker-registry not found (Debian package docker-registry; run scripts/install-toolchains.sh)")
}

// Require starts a registry for t and stops it when t ends. Without the
// binary, it skips t, or fails it when CI=true.
func Require(t testing.TB, opts Options) *Registry {
	t.Helper()
	if _, err := Binary(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v: the registry tests must run in CI", err)
		}
		t.Skipf("%v", err)
	}
	r, err := Start(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// Start starts a registry whose files are under dir.
func Start(dir string, opts Options) (*Registry, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 { // the free port may be taken between its choice and the start
		r, err := start(bin, dir, opts)
		if err == nil {
			return r, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func start(bin, dir string, opts Options) (*Registry, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	storage := filepath.Join(dir, "storage")
	if err := os.MkdirAll(storage, 0o755); err != nil {
		return nil, err
	}
	secret := make([]byte, 16)
	rand.Read(secret)
	host := fmt.Sprintf("127.0.0.1:%d", port)
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  secret: %s
`, storage, host, hex.EncodeToString(secret))
	if len(opts.Users) > 0 {
		var ht bytes.Buffer
		for u, p := range opts.Users {
			h, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.MinCost)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(&ht, "%s:%s\n", u, h)
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, ht.Bytes(), 0o600); err != nil {
			return nil, err
		}
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: vitte-test\n    path: %s\n", htpasswd)
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	r := &Registry{Host: host, Dir: dir, out: &syncBuffer{}, done: make(chan struct{})}
	r.cmd = exec.Command(bin, "serve", cfgPath)
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	r.cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none")
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { r.cmd.Wait(); close(r.done) }()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-r.done:
			return nil, fmt.Errorf("docker-registry exited at start: %s", strings.TrimSpace(r.out.String()))
		default:
		}
		resp, err := client.Get("http://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return r, nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.Close()
	return nil, fmt.Errorf("docker-registry did not answer on %s within 15s: %s", host, strings.TrimSpace(r.out.String()))
}

// Close stops the registry and waits for it to exit.
func (r *Registry) Close() error {
	r.once.Do(func() {
		r.cmd.Process.Kill()
		<-r.done
	})
	return nil
}

// Log returns what the registry wrote.
func (r *Registry) Log() string { return r.out.String() }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
