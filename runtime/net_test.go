package runtime_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// The network tests only ever talk to httptest servers on 127.0.0.1. Names
// (api.test, ok.test, evil.test) are mapped by a resolver passed through
// the call's context, never looked up in DNS.

// netServer is an httptest server on 127.0.0.1 that counts its requests.
type netServer struct {
	*httptest.Server
	port string
	hits atomic.Int32
}

func newNetServer(t *testing.T, h http.HandlerFunc) *netServer {
	t.Helper()
	s := &netServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", u.Hostname())
	s.port = u.Port()
	return s
}

// at is the URL of path on host at the server's port.
func (s *netServer) at(host, path string) string { return "http://" + host + ":" + s.port + path }

// netHandler answers the net-probe's requests: "/" echoes the request,
// "/redirect?to=U" redirects to U, "/big?n=N" sends N bytes, "/slow" waits
// for the client to give up.
func netHandler(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/redirect":
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	case "/loop":
		http.Redirect(w, r, "/loop", http.StatusFound)
	case "/big":
		var n int
		fmt.Sscan(r.URL.Query().Get("n"), &n)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte(strings.Repeat("x", n)))
	case "/slow":
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	default:
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-Reply", "yes")
		w.Header().Add("X-Multi", "one")
		w.Header().Add("X-Multi", "two")
		w.Header().Set("Date", "Mon, 02 Jan 2006 15:04:05 GMT")
		if r.Method == http.MethodPut {
			w.WriteHeader(http.StatusCreated)
		}
		fmt.Fprintf(w, "%s %s accept=%q x-probe=%q content-type=%q body=%q",
			r.Method, r.URL.RequestURI(), r.Header.Get("Accept"), r.Header.Get("X-Probe"), r.Header.Get("Content-Type"), body)
	}
}

// netNames is a capabilities.Resolver over a fixed map.
type netNames map[string]string

func (n netNames) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	a, ok := n[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return []netip.Addr{netip.MustParseAddr(a)}, nil
}

// netAudit collects audit events.
type netAudit struct {
	mu     sync.Mutex
	events []capabilities.Event
}

func (a *netAudit) record(e capabilities.Event) {
	if e.Kind == capabilities.KindCall {
		return // not about the network; see TestFuel
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
}

func (a *netAudit) take() []capabilities.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	ev := a.events
	a.events = nil
	return ev
}

// netProbeDir copies the net-probe fixture into a temporary folder with a
// plugin.toml whose [capabilities].net is net.
func netProbeDir(t *testing.T, net ...string) string {
	t.Helper()
	dir := t.TempDir()
	wasm, err := os.ReadFile(filepath.Join(fixture("net-probe"), "net-probe.wasm"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "net-probe.wasm"), wasm, 0o644))
	toml, err := os.ReadFile(filepath.Join(fixture("net-probe"), "plugin.toml"))
	require.NoError(t, err)
	line := regexp.MustCompile(`(?m)^net = \[.*\]$`)
	require.True(t, line.Match(toml))
	quoted := make([]string, len(net))
	for i, n := range net {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	toml = line.ReplaceAll(toml, []byte("net = ["+strings.Join(quoted, ", ")+"]"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plugin.toml"), toml, 0o644))
	return dir
}

type netEnv struct {
	env
	audit *netAudit
}

func newNetRuntime(t *testing.T, cfg runtime.Config) netEnv {
	a := &netAudit{}
	return netEnv{env: newRuntime(t, cfg.WithAuditor(a.record)), audit: a}
}

func (e netEnv) load(t *testing.T, dir string, g capabilities.Grants) *runtime.Plugin {
	t.Helper()
	ctx := context.Background()
	p, err := e.rt.LoadWithConfig(ctx, dir, runtime.NewLoadConfig().WithGrants(g))
	require.NoError(t, err)
	t.Cleanup(func() { p.Close(ctx) })
	return p
}

func TestNet_Granted(t *testing.T) {
	srv := newNetServer(t, netHandler)
	e := newNetRuntime(t, runtime.NewConfig().WithAuditAllowed(true))
	grant := "127.0.0.1:" + srv.port
	p := e.load(t, netProbeDir(t, grant), capabilities.NewGrants().WithNet(grant))
	ctx := context.Background()
	call := func(fn, in string) string {
		t.Helper()
		out, err := p.Call(ctx, fn, []byte(in))
		require.NoError(t, err)
		return string(out)
	}

	assert.Equal(t, `status 200
GET /a?b=c accept="" x-probe="" content-type="" body=""`, call("get", srv.at("127.0.0.1", "/a?b=c")))
	assert.Equal(t, []capabilities.Event{{
		Plugin: "net-probe", Version: "0.1.0", Kind: capabilities.KindNet, Resource: srv.at("127.0.0.1", "/a?b=c"),
		Op: "request", Rule: "allowed by " + grant, Function: "get", Allowed: true,
	}}, netEvents(e.audit.take()))

	assert.Equal(t, `status 200
DELETE /x accept="" x-probe="" content-type="" body=""`, call("get", "DELETE "+srv.at("127.0.0.1", "/x")))

	assert.Equal(t, `status 200
content-length: 69
content-type: text/plain
date: Mon, 02 Jan 2006 15:04:05 GMT
x-multi: one
x-multi: two
x-reply: yes
`, call("headers", srv.at("127.0.0.1", "/")))

	assert.Equal(t, `status 200
POST /p accept="" x-probe="" content-type="text/plain" body="héllo\n\x00 wörld"`, call("post", srv.at("127.0.0.1", "/p")+"\nhéllo\n\x00 wörld"))

	out := call("request", "PUT "+srv.at("127.0.0.1", "/put")+"\nAccept: */*\nX-Probe: custom\n\nthe body")
	assert.Equal(t, `status 201
content-length: 70
content-type: text/plain
date: Mon, 02 Jan 2006 15:04:05 GMT
x-multi: one
x-multi: two
x-reply: yes

PUT /put accept="*/*" x-probe="custom" content-type="" body="the body"`, out)

	big := call("get", srv.at("127.0.0.1", fmt.Sprintf("/big?n=%d", 60<<10)))
	assert.Equal(t, "status 200\n"+strings.Repeat("x", 60<<10), big, "a body under the 64KiB output limit")

	assert.Equal(t, "status 200\n", call("get", "HEAD "+srv.at("127.0.0.1", "/")))
}

// netEvents zeroes what changes from run to run in audit events.
func netEvents(ev []capabilities.Event) []capabilities.Event {
	for i := range ev {
		ev[i].Time, ev[i].ModuleSHA256 = time.Time{}, ""
	}
	return ev
}

func TestNet_GrantedNameInGrantedRange(t *testing.T) {
	srv := newNetServer(t, netHandler)
	e := newNetRuntime(t, runtime.NewConfig())
	pats := []string{"ok.test:" + srv.port, "127.0.0.0/8:" + srv.port}
	p := e.load(t, netProbeDir(t, pats...), capabilities.NewGrants().WithNet(pats[0]).WithNet(pats[1]))
	ctx := capabilities.WithResolver(context.Background(), netNames{"ok.test": "127.0.0.1"})
	out, err := p.Call(ctx, "get", []byte(srv.at("ok.test", "/ok")))
	require.NoError(t, err)
	assert.Equal(t, `status 200
GET /ok accept="" x-probe="" content-type="" body=""`, string(out))
	assert.Empty(t, e.audit.take(), "nothing denied")
}

// TestNet_Refused makes requests the plugin may not make. Each gets an
// error result naming the URL and the rule, an audit event, and a call
// error wrapping ErrPermission; the next call works.
func TestNet_Refused(t *testing.T) {
	srv := newNetServer(t, netHandler)
	other := newNetServer(t, netHandler) // never granted
	granted := "127.0.0.1:" + srv.port
	next := srv.at("127.0.0.1", "/next")
	resolver := netNames{"api.test": "127.0.0.1", "evil.test": "127.0.0.1"}
	redirect := func(to string) string { return srv.at("127.0.0.1", "/redirect?to="+url.QueryEscape(to)) }

	tests := []struct {
		name     string
		net      []string // the manifest's request
		grants   []string // what the application grants (default: granted)
		deny     []string // what it denies
		input    string   // to the get handler
		resource string   // the URL refused
		rule     string
		next     string // a URL the next call gets
	}{
		{
			name:  "host not granted",
			net:   []string{granted},
			input: srv.at("evil.test", "/"), resource: srv.at("evil.test", "/"),
			rule: "no net grant matches",
		},
		{
			name:  "port not granted",
			net:   []string{granted},
			input: other.at("127.0.0.1", "/"), resource: other.at("127.0.0.1", "/"),
			rule: "no net grant matches",
		},
		{
			name:  "requested but not granted",
			net:   []string{granted, "api.test:" + srv.port},
			input: srv.at("api.test", "/"), resource: srv.at("api.test", "/"),
			rule: "no net grant matches",
		},
		{
			// api.test is granted on srv's port, and 127.0.0.1 only on
			// other's port: the address api.test resolves to is not.
			name:   "granted name resolving to loopback",
			net:    []string{"api.test:" + srv.port, "127.0.0.1:" + other.port},
			grants: []string{"api.test:" + srv.port, "127.0.0.1:" + other.port},
			input:  srv.at("api.test", "/"), resource: srv.at("api.test", "/"),
			rule: "api.test resolves to 127.0.0.1, a loopback address not covered by an IP or CIDR grant",
			next: other.at("127.0.0.1", "/next"),
		},
		{
			name:  "redirect to a host not granted",
			net:   []string{granted},
			input: redirect(srv.at("evil.test", "/stolen")), resource: srv.at("evil.test", "/stolen"),
			rule: "no net grant matches",
		},
		{
			name:  "redirect to a port not granted",
			net:   []string{granted},
			input: redirect(other.at("127.0.0.1", "/stolen")), resource: other.at("127.0.0.1", "/stolen"),
			rule: "no net grant matches",
		},
		{
			name:  "redirect to file",
			net:   []string{granted},
			input: redirect("file:///etc/passwd"), resource: "file:///etc/passwd",
			rule: `scheme "file" is not allowed (only http and https)`,
		},
		{
			name:  "file scheme",
			net:   []string{granted},
			input: "file:///etc/passwd", resource: "file:///etc/passwd",
			rule: `scheme "file" is not allowed (only http and https)`,
		},
		{
			name:  "ftp scheme",
			net:   []string{granted},
			input: "ftp://127.0.0.1:" + srv.port + "/", resource: "ftp://127.0.0.1:" + srv.port + "/",
			rule: `scheme "ftp" is not allowed (only http and https)`,
		},
		{
			name:   "deny wins",
			net:    []string{granted, "127.0.0.1:" + other.port},
			grants: []string{granted, "127.0.0.1:" + other.port},
			deny:   []string{granted},
			input:  srv.at("127.0.0.1", "/"), resource: srv.at("127.0.0.1", "/"),
			rule: "denied by " + granted,
			next: other.at("127.0.0.1", "/next"),
		},
		{
			// The audit's escape: a grant without a port means 80 and 443,
			// and a manifest asking for another port does not widen it.
			name:   "portless grant, port in the request",
			net:    []string{granted, "127.0.0.1:" + other.port},
			grants: []string{granted, "127.0.0.1"},
			input:  other.at("127.0.0.1", "/"), resource: other.at("127.0.0.1", "/"),
			rule: "no net grant matches",
		},
		{
			name:   "portless CIDR grant, port in the request",
			net:    []string{granted, "127.0.0.1:" + other.port},
			grants: []string{granted, "127.0.0.0/8"},
			input:  other.at("127.0.0.1", "/"), resource: other.at("127.0.0.1", "/"),
			rule: "no net grant matches",
		},
		{
			name:  "password redacted",
			net:   []string{granted},
			input: "http://user:secret@evil.test:" + srv.port + "/", resource: "http://user:xxxxx@evil.test:" + srv.port + "/",
			rule: "no net grant matches",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newNetRuntime(t, runtime.NewConfig())
			g := capabilities.NewGrants()
			if tt.grants == nil {
				tt.grants = []string{granted}
			}
			for _, n := range tt.grants {
				g = g.WithNet(n)
			}
			for _, n := range tt.deny {
				g = g.WithoutNet(n)
			}
			p := e.load(t, netProbeDir(t, tt.net...), g)
			e.audit.take() // requests not granted at load time
			ctx := capabilities.WithResolver(context.Background(), resolver)
			srvHits, otherHits := srv.hits.Load(), other.hits.Load()

			_, err := p.Call(ctx, "get", []byte(tt.input))
			require.Error(t, err)
			msg := fmt.Sprintf("permission denied: request to %q: %s", tt.resource, tt.rule)
			var ge *runtime.GuestError
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, msg, ge.Message, "what the guest saw")
			assert.ErrorIs(t, err, runtime.ErrPermission)
			assert.EqualError(t, err, `call plugin "net-probe" function "get": plugin error: `+msg+" (after a permission was denied)")

			ev := netEvents(e.audit.take())
			require.Len(t, ev, 1)
			assert.Equal(t, capabilities.Event{
				Plugin: "net-probe", Version: "0.1.0", Kind: capabilities.KindNet, Resource: tt.resource,
				Op: "request", Rule: tt.rule, Function: "get",
			}, ev[0])

			if strings.Contains(tt.input, "/redirect") {
				assert.Equal(t, srvHits+1, srv.hits.Load(), "only the redirect was served")
			} else {
				assert.Equal(t, srvHits, srv.hits.Load(), "nothing reached the server")
			}
			assert.Equal(t, otherHits, other.hits.Load(), "nothing reached the other server")

			nextURL := tt.next
			if nextURL == "" {
				nextURL = next
			}
			out, err := p.Call(ctx, "get", []byte(nextURL))
			require.NoError(t, err, "the next call works")
			assert.True(t, strings.HasPrefix(string(out), "status 200\nGET /next "), string(out))
		})
	}
}

// TestNet_Failed: requests that are allowed but fail, or that the host
// refuses as malformed without a permission being involved, get an error
// result; the call does not wrap ErrPermission.
func TestNet_Failed(t *testing.T) {
	srv := newNetServer(t, netHandler)
	granted := "127.0.0.1:" + srv.port
	e := newNetRuntime(t, runtime.NewConfig())
	p := e.load(t, netProbeDir(t, granted), capabilities.NewGrants().WithNet(granted))
	ctx := context.Background()
	tests := []struct {
		name, fn, input, msg string
	}{
		{"body over the output limit", "get", srv.at("127.0.0.1", fmt.Sprintf("/big?n=%d", 64<<10+1)),
			fmt.Sprintf("request to %q: response body is over the plugin's output limit of 65536 bytes", srv.at("127.0.0.1", fmt.Sprintf("/big?n=%d", 64<<10+1)))},
		{"invalid method", "get", "GE(T " + srv.at("127.0.0.1", "/"), `invalid method "GE(T": want a token like GET or POST`},
		{"CONNECT", "request", "CONNECT " + srv.at("127.0.0.1", "/") + "\n\n", `method "CONNECT" is not allowed: it opens a tunnel`},
		{"connect", "request", "connect " + srv.at("127.0.0.1", "/") + "\n\n", `method "connect" is not allowed: it opens a tunnel`},
		{"invalid URL", "get", "http://127.0.0.1:" + srv.port + "/%zz", `invalid URL "http://127.0.0.1:` + srv.port + `/%zz": invalid URL escape "%zz"`},
		{"no host", "get", "http:///etc/passwd", `URL "http:///etc/passwd" has no host`},
		{"invalid header name", "request", "GET " + srv.at("127.0.0.1", "/") + "\nbad name: x\n\n", `header 0: invalid name "bad name"`},
		{"host header", "request", "GET " + srv.at("127.0.0.1", "/") + "\nHost: evil.test\n\n", `header "Host" is not allowed: the host comes from the URL`},
		{"loop of redirects", "get", srv.at("127.0.0.1", "/loop"), `request failed: Get "/loop": stopped after 10 redirects`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := srv.hits.Load()
			_, err := p.Call(ctx, tt.fn, []byte(tt.input))
			var ge *runtime.GuestError
			require.ErrorAs(t, err, &ge)
			assert.Contains(t, ge.Message, tt.msg)
			if !strings.HasPrefix(tt.name, "body") && !strings.HasPrefix(tt.name, "loop") {
				assert.Equal(t, hits, srv.hits.Load(), "refused before anything was sent")
			}
			assert.NotErrorIs(t, err, runtime.ErrPermission)
			assert.Empty(t, e.audit.take())
			out, err := p.Call(ctx, "get", []byte(srv.at("127.0.0.1", "/next")))
			require.NoError(t, err, "the next call works")
			assert.True(t, strings.HasPrefix(string(out), "status 200\n"))
		})
	}

	t.Run("connection refused", func(t *testing.T) {
		// A granted port nobody listens on: take a free port, then close it.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		pat := fmt.Sprintf("127.0.0.1:%d", port)
		p := e.load(t, netProbeDir(t, pat), capabilities.NewGrants().WithNet(pat))
		_, err = p.Call(ctx, "get", []byte("http://"+pat+"/"))
		var ge *runtime.GuestError
		require.ErrorAs(t, err, &ge)
		assert.Contains(t, ge.Message, "request failed: Get \"http://"+pat+"/\": dial tcp "+pat+": connect: connection refused")
	})
}

func TestNet_Timeout(t *testing.T) {
	srv := newNetServer(t, netHandler)
	granted := "127.0.0.1:" + srv.port
	e := newNetRuntime(t, runtime.NewConfig().WithMaxTimeout(300*time.Millisecond))
	p := e.load(t, netProbeDir(t, granted), capabilities.NewGrants().WithNet(granted))
	ctx := context.Background()
	start := time.Now()
	_, err := p.Call(ctx, "get", []byte(srv.at("127.0.0.1", "/slow")))
	assert.ErrorIs(t, err, runtime.ErrTimeout)
	assert.Less(t, time.Since(start), 3*time.Second, "the call's timeout ends the request")
	out, err := p.Call(ctx, "get", []byte(srv.at("127.0.0.1", "/next")))
	require.NoError(t, err, "the next call works")
	assert.True(t, strings.HasPrefix(string(out), "status 200\n"))
}

// TestNet_Hostile calls http.request with arguments that break the ABI:
// each traps the call with an error saying what was wrong, and the next
// call works.
func TestNet_Hostile(t *testing.T) {
	srv := newNetServer(t, netHandler)
	granted := "127.0.0.1:" + srv.port
	e := newNetRuntime(t, runtime.NewConfig())
	p := e.load(t, netProbeDir(t, granted), capabilities.NewGrants().WithNet(granted))
	ctx := context.Background()
	tests := []struct {
		handler string
		is      error
		msg     string
	}{
		{"bad-headers-oob", abi.ErrOutOfBounds, "host function request: headers at 0x"},
		{"bad-header-name-oob", abi.ErrOutOfBounds, "host function request: headers[0] name at 0x"},
		{"bad-header-utf8", abi.ErrInvalidUTF8, "host function request: headers[0] value at 0x"},
		{"bad-url-utf8", abi.ErrInvalidUTF8, "host function request: url at 0x"},
		{"bad-too-many-headers", abi.ErrTooLarge, "host function request: headers: 257 entries exceed the limit of 256: too large"},
		{"bad-body-len", abi.ErrTooLarge, "host function request: body of 4294967295 bytes exceeds the limit of 65536 bytes: too large"},
		{"bad-ret-misaligned", abi.ErrMisaligned, "host function request: return area at 0x"},
		{"bad-ret-oob", abi.ErrOutOfBounds, "host function request: return area at 0x"},
	}
	for _, tt := range tests {
		t.Run(tt.handler, func(t *testing.T) {
			hits := srv.hits.Load()
			_, err := p.Call(ctx, tt.handler, nil)
			require.Error(t, err)
			assert.ErrorIs(t, err, runtime.ErrContract)
			assert.ErrorIs(t, err, tt.is)
			assert.Contains(t, err.Error(), tt.msg)
			assert.True(t, strings.HasPrefix(err.Error(), `call plugin "net-probe" function "`+tt.handler+`": plugin broke the ABI contract: `), err.Error())
			assert.Equal(t, hits, srv.hits.Load(), "no request was made")
			out, err := p.Call(ctx, "get", []byte(srv.at("127.0.0.1", "/next")))
			require.NoError(t, err, "the next call works")
			assert.True(t, strings.HasPrefix(string(out), "status 200\n"))
		})
	}
}
