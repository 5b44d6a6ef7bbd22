package capabilities_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/manifest"
)

// netSet builds a Set from allow and deny patterns.
func netSet(t testing.TB, allow []string, deny ...string) *capabilities.Set {
	t.Helper()
	s := capabilities.None()
	for _, p := range allow {
		np, err := manifest.ParseNetPattern(p)
		require.NoError(t, err)
		s.Net = append(s.Net, np)
	}
	for _, p := range deny {
		np, err := manifest.ParseNetPattern(p)
		require.NoError(t, err)
		s.DenyNet = append(s.DenyNet, np)
	}
	return s
}

func TestSet_CheckURL(t *testing.T) {
	s := netSet(t, []string{"api.example.com", "*.example.org:8443", "10.0.0.0/8:80", "[2001:db8::/32]:443"}, "secret.example.org:8443")
	tests := []struct {
		url  string
		ok   bool
		rule string
		err  string
	}{
		{url: "https://api.example.com/v1?q=1", ok: true, rule: "allowed by api.example.com"},
		{url: "http://api.example.com", ok: true, rule: "allowed by api.example.com"},
		{url: "http://API.Example.COM./x", ok: true, rule: "allowed by api.example.com"},
		{url: "http://api.example.com:8080/", rule: "no net grant matches"},
		{url: "https://a.b.example.org:8443/", ok: true, rule: "allowed by *.example.org:8443"},
		{url: "https://example.org:8443/", rule: "no net grant matches"},
		{url: "https://secret.example.org:8443/", rule: "denied by secret.example.org:8443"},
		{url: "http://10.1.2.3/", ok: true, rule: "allowed by 10.0.0.0/8:80"},
		{url: "https://10.1.2.3/", rule: "no net grant matches"},
		{url: "http://[::ffff:10.1.2.3]/", ok: true, rule: "allowed by 10.0.0.0/8:80"},
		{url: "https://[2001:db8::1]/", ok: true, rule: "allowed by [2001:db8::/32]:443"},
		{url: "http://user:pw@api.example.com/", ok: true, rule: "allowed by api.example.com"},
		{url: "http://evil.test/", rule: "no net grant matches"},
		{url: "http://api.example.com.evil.test/", rule: "no net grant matches"},
		{url: "file:///etc/passwd", rule: `scheme "file" is not allowed (only http and https)`},
		{url: "ftp://api.example.com/", rule: `scheme "ftp" is not allowed (only http and https)`},
		{url: "gopher://api.example.com:70/", rule: `scheme "gopher" is not allowed (only http and https)`},
		{url: "mailto:a@api.example.com", rule: `scheme "mailto" is not allowed (only http and https)`},
		{url: "//api.example.com/", rule: `scheme "" is not allowed (only http and https)`},
		{url: "http:api.example.com", err: `URL "http:api.example.com" has no host`},
		{url: "http:///path", err: `URL "http:///path" has no host`},
		{url: "http://api.example.com:0/", err: `invalid port "0": want 1 to 65535`},
		{url: "http://api.example.com:99999/", err: `invalid port "99999": want 1 to 65535`},
		{url: "http://bücher.example.org:8443/", err: `host "bücher.example.org": want ASCII (the punycode form of an internationalised name)`},
		{url: "http://[fe80::1%25eth0]/", rule: "no net grant matches"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			require.NoError(t, err)
			ok, rule, err := s.CheckURL(u)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				assert.False(t, ok)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.rule, rule)
		})
	}
	_, _, err := s.CheckURL(nil)
	assert.EqualError(t, err, "no URL")
}

// A deny rule without a port refuses its host on every port, although a
// grant without a port covers only 80 and 443 (found by FuzzCheckURL).
func TestSet_DenyWithoutPort(t *testing.T) {
	s := netSet(t, []string{"127.0.0.0/8:8080", "*.example.org:8443", "api.example.com"}, "127.0.0.2", "secret.example.org", "10.0.0.0/8")
	tests := []struct {
		url  string
		ok   bool
		rule string
	}{
		{url: "http://127.0.0.2:8080/", rule: "denied by 127.0.0.2"},
		{url: "http://127.0.0.3:8080/", ok: true, rule: "allowed by 127.0.0.0/8:8080"},
		{url: "https://secret.example.org:8443/", rule: "denied by secret.example.org"},
		{url: "https://open.example.org:8443/", ok: true, rule: "allowed by *.example.org:8443"},
		{url: "http://api.example.com/", ok: true, rule: "allowed by api.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			require.NoError(t, err)
			ok, rule, err := s.CheckURL(u)
			require.NoError(t, err)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.rule, rule)
		})
	}
	// At dial time too: a granted name resolving into a denied range.
	ok, rule := s.CheckAddr(netip.MustParseAddr("10.1.2.3"), 8080)
	assert.False(t, ok)
	assert.Contains(t, rule, "denied by 10.0.0.0/8")
	ok, _ = s.CheckAddr(netip.MustParseAddr("127.0.0.2"), 8080)
	assert.False(t, ok)
}

func TestIsPrivate(t *testing.T) {
	tests := []struct {
		addr    string
		private bool
	}{
		{"127.0.0.1", true},
		{"127.255.255.254", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"10.0.0.1", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"172.32.0.1", false},
		{"192.168.1.1", true},
		{"169.254.169.254", true},
		{"169.254.0.1", true},
		{"fe80::1", true},
		{"fc00::1", true},
		{"fd12:3456::1", true},
		{"0.0.0.0", true},
		{"0.1.2.3", true},
		{"::", true},
		{"224.0.0.1", true},
		{"239.255.255.250", true},
		{"ff02::1", true},
		{"255.255.255.255", true},
		{"100.64.0.1", true},
		{"198.18.0.1", true},
		{"fec0::1", true},
		{"::7f00:1", true},
		{"64:ff9b::7f00:1", true},
		{"64:ff9b::a9fe:a9fe", true},
		{"2002:7f00:1::1", true},
		{"2002:c0a8:101::1", true},
		{"8.8.8.8", false},
		{"93.184.216.34", false},
		{"::ffff:8.8.8.8", false},
		{"2606:4700::1111", false},
		{"64:ff9b::808:808", false},
		{"2002:808:808::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			assert.Equal(t, tt.private, capabilities.IsPrivate(netip.MustParseAddr(tt.addr)))
		})
	}
	assert.True(t, capabilities.IsPrivate(netip.Addr{}), "the zero Addr")
	assert.True(t, capabilities.IsPrivate(netip.MustParseAddr("2606:4700::1%eth0")), "a zoned address")
}

func TestSet_CheckAddr(t *testing.T) {
	s := netSet(t, []string{"api.test", "127.0.0.0/8:8080", "[::1]:8080"}, "127.0.0.2:8080", "93.184.216.0/24")
	tests := []struct {
		addr string
		port uint16
		ok   bool
		rule string
	}{
		{"93.184.215.1", 443, true, "a public address"},
		{"93.184.216.34", 443, false, "denied by 93.184.216.0/24"},
		{"127.0.0.1", 8080, true, "allowed by 127.0.0.0/8:8080"},
		{"::ffff:127.0.0.1", 8080, true, "allowed by 127.0.0.0/8:8080"},
		{"127.0.0.2", 8080, false, "denied by 127.0.0.2:8080"},
		{"127.0.0.1", 80, false, "127.0.0.1 is a loopback address not covered by an IP or CIDR grant"},
		{"::1", 8080, true, "allowed by [::1]:8080"},
		{"169.254.169.254", 80, false, "169.254.169.254 is a link-local address not covered by an IP or CIDR grant"},
		{"10.0.0.1", 443, false, "10.0.0.1 is a private address not covered by an IP or CIDR grant"},
		{"0.0.0.0", 8080, false, "0.0.0.0 is an unspecified address, which reaches this host: never allowed"},
		{"::", 8080, false, ":: is an unspecified address, which reaches this host: never allowed"},
		{"::ffff:0.0.0.0", 8080, false, "0.0.0.0 is an unspecified address, which reaches this host: never allowed"},
		{"0.1.2.3", 8080, false, "0.1.2.3 is a this-network address, which reaches this host: never allowed"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s:%d", tt.addr, tt.port), func(t *testing.T) {
			ok, rule := s.CheckAddr(netip.MustParseAddr(tt.addr), tt.port)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.rule, rule)
		})
	}
}

func TestSet_CheckAddr_neverThisHost(t *testing.T) {
	// Even a set built by hand, with patterns no parser accepts, never
	// reaches the host through 0.0.0.0: it connects to loopback.
	s := &capabilities.Set{Net: []manifest.NetPattern{
		{Prefix: netip.MustParsePrefix("0.0.0.0/0"), Port: 8080},
		{Prefix: netip.MustParsePrefix("::/0"), Port: 8080},
	}}
	for _, a := range []string{"0.0.0.0", "0.0.0.1", "::", "::ffff:0.0.0.0"} {
		ok, rule := s.CheckAddr(netip.MustParseAddr(a), 8080)
		assert.False(t, ok, a)
		assert.Contains(t, rule, "which reaches this host: never allowed")
	}
	ok, _ := s.CheckAddr(netip.MustParseAddr("127.0.0.1"), 8080)
	assert.True(t, ok, "the same set allows a loopback address it covers")
}

// fakeResolver maps names to addresses and counts lookups; it never uses
// DNS.
type fakeResolver struct {
	mu      sync.Mutex
	names   map[string][]string
	lookups map[string]int
}

func newResolver(names map[string][]string) *fakeResolver {
	return &fakeResolver{names: names, lookups: map[string]int{}}
}

func (r *fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups[host]++
	addrs, ok := r.names[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, a := range addrs {
		ip := netip.MustParseAddr(a)
		if network == "ip4" && !ip.Is4() || network == "ip6" && !ip.Is6() {
			continue
		}
		out = append(out, ip)
	}
	return out, nil
}

func (r *fakeResolver) count(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lookups[host]
}

// decision is one call of HTTPClient's report.
type decision struct {
	resource, rule string
	allowed        bool
}

type recorder struct {
	mu sync.Mutex
	d  []decision
}

func (r *recorder) report(resource, rule string, allowed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.d = append(r.d, decision{resource, rule, allowed})
}

func (r *recorder) all() []decision {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]decision(nil), r.d...)
}

// server is an httptest server on 127.0.0.1 that counts its requests.
type server struct {
	*httptest.Server
	port string
	hits atomic.Int32
}

func newServer(t *testing.T, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", u.Hostname(), "tests only talk to 127.0.0.1")
	s.port = u.Port()
	return s
}

func (s *server) at(host, path string) string { return "http://" + host + ":" + s.port + path }

func hello(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Probe", "yes")
	fmt.Fprintf(w, "hello %s %s", r.Method, r.URL.Path)
}

func get(t *testing.T, ctx context.Context, c *http.Client, rawURL string) (string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return fmt.Sprintf("%d %s", resp.StatusCode, b), nil
}

func denied(t *testing.T, err error) *capabilities.NetDeniedError {
	t.Helper()
	var d *capabilities.NetDeniedError
	require.ErrorAs(t, err, &d)
	return d
}

func TestSet_HTTPClient(t *testing.T) {
	srv := newServer(t, hello)
	res := newResolver(map[string][]string{
		"api.test":   {"127.0.0.1"},
		"ok.test":    {"127.0.0.1"},
		"evil.test":  {"127.0.0.1"},
		"mixed.test": {"192.0.2.1", "127.0.0.1"},
		"meta.test":  {"169.254.169.254"},
	})
	ctx := capabilities.WithResolver(context.Background(), res)
	port := srv.port

	t.Run("granted address", func(t *testing.T) {
		rec := &recorder{}
		c := netSet(t, []string{"127.0.0.1:" + port}).HTTPClient(rec.report)
		got, err := get(t, ctx, c, srv.at("127.0.0.1", "/x"))
		require.NoError(t, err)
		assert.Equal(t, "200 hello GET /x", got)
		assert.Equal(t, []decision{{srv.at("127.0.0.1", "/x"), "allowed by 127.0.0.1:" + port, true}}, rec.all())
	})

	t.Run("granted name resolving to loopback", func(t *testing.T) {
		rec := &recorder{}
		before := srv.hits.Load()
		c := netSet(t, []string{"api.test:" + port}).HTTPClient(rec.report)
		_, err := get(t, ctx, c, srv.at("api.test", "/"))
		d := denied(t, err)
		assert.Equal(t, srv.at("api.test", "/"), d.Resource)
		assert.Equal(t, "api.test resolves to 127.0.0.1, a loopback address not covered by an IP or CIDR grant", d.Rule)
		assert.Equal(t, fmt.Sprintf(`permission denied: request to %q: %s`, d.Resource, d.Rule), d.Error())
		assert.Equal(t, []decision{
			{srv.at("api.test", "/"), "allowed by api.test:" + port, true},
			{srv.at("api.test", "/"), d.Rule, false},
		}, rec.all())
		assert.Equal(t, before, srv.hits.Load(), "nothing reached the server")
	})

	t.Run("granted name and granted range", func(t *testing.T) {
		c := netSet(t, []string{"ok.test:" + port, "127.0.0.0/8:" + port}).HTTPClient(nil)
		got, err := get(t, ctx, c, srv.at("ok.test", "/ok"))
		require.NoError(t, err)
		assert.Equal(t, "200 hello GET /ok", got)
	})

	t.Run("one bad address refuses the name", func(t *testing.T) {
		before := srv.hits.Load()
		c := netSet(t, []string{"mixed.test:" + port}).HTTPClient(nil)
		_, err := get(t, ctx, c, srv.at("mixed.test", "/"))
		assert.Equal(t, "mixed.test resolves to 127.0.0.1, a loopback address not covered by an IP or CIDR grant", denied(t, err).Rule)
		assert.Equal(t, before, srv.hits.Load())
	})

	t.Run("metadata address", func(t *testing.T) {
		c := netSet(t, []string{"meta.test:" + port}).HTTPClient(nil)
		_, err := get(t, ctx, c, srv.at("meta.test", "/latest/meta-data/"))
		assert.Equal(t, "meta.test resolves to 169.254.169.254, a link-local address not covered by an IP or CIDR grant", denied(t, err).Rule)
	})

	t.Run("deny wins", func(t *testing.T) {
		before := srv.hits.Load()
		c := netSet(t, []string{"127.0.0.1:" + port}, "127.0.0.1:"+port).HTTPClient(nil)
		_, err := get(t, ctx, c, srv.at("127.0.0.1", "/"))
		assert.Equal(t, "denied by 127.0.0.1:"+port, denied(t, err).Rule)
		c = netSet(t, []string{"ok.test:" + port, "127.0.0.0/8:" + port}, "127.0.0.0/24:"+port).HTTPClient(nil)
		_, err = get(t, ctx, c, srv.at("ok.test", "/"))
		assert.Equal(t, "ok.test resolves to 127.0.0.1, denied by 127.0.0.0/24:"+port, denied(t, err).Rule, "a denied block refuses the names that resolve into it")
		assert.Equal(t, before, srv.hits.Load())
	})

	t.Run("not granted", func(t *testing.T) {
		rec := &recorder{}
		c := netSet(t, []string{"127.0.0.1:" + port}).HTTPClient(rec.report)
		for _, u := range []string{srv.at("evil.test", "/"), srv.at("127.0.0.2", "/"), "http://127.0.0.1/", "file:///etc/passwd"} {
			_, err := get(t, ctx, c, u)
			if strings.HasPrefix(u, "file:") {
				assert.Equal(t, `scheme "file" is not allowed (only http and https)`, denied(t, err).Rule)
				continue
			}
			assert.Equal(t, "no net grant matches", denied(t, err).Rule, u)
		}
		assert.Equal(t, 0, res.count("evil.test"), "a name that is not granted is never resolved")
		assert.Len(t, rec.all(), 4)
	})

	t.Run("redirects", func(t *testing.T) {
		var target atomic.Value
		redir := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/loop" {
				http.Redirect(w, r, "/loop", http.StatusFound)
				return
			}
			http.Redirect(w, r, target.Load().(string), http.StatusFound)
		})
		grants := []string{"127.0.0.1:" + redir.port, "127.0.0.1:" + port}

		target.Store(srv.at("127.0.0.1", "/landed"))
		rec := &recorder{}
		got, err := get(t, ctx, netSet(t, grants).HTTPClient(rec.report), redir.at("127.0.0.1", "/"))
		require.NoError(t, err)
		assert.Equal(t, "200 hello GET /landed", got)
		assert.Len(t, rec.all(), 2, "each hop is checked")

		for _, tt := range []struct{ to, rule string }{
			{srv.at("evil.test", "/"), "no net grant matches"},
			{srv.at("api.test", "/"), "no net grant matches"},
			{"http://127.0.0.1:1/", "no net grant matches"},
			{"file:///etc/passwd", `scheme "file" is not allowed (only http and https)`},
			{"ftp://127.0.0.1:" + port + "/", `scheme "ftp" is not allowed (only http and https)`},
		} {
			target.Store(tt.to)
			before := srv.hits.Load()
			rec := &recorder{}
			_, err := get(t, ctx, netSet(t, grants).HTTPClient(rec.report), redir.at("127.0.0.1", "/"))
			d := denied(t, err)
			assert.Equal(t, tt.to, d.Resource)
			assert.Equal(t, tt.rule, d.Rule)
			assert.Equal(t, before, srv.hits.Load())
			assert.Equal(t, decision{tt.to, tt.rule, false}, rec.all()[len(rec.all())-1])
		}

		_, err = get(t, ctx, netSet(t, grants).HTTPClient(nil), redir.at("127.0.0.1", "/loop"))
		assert.ErrorContains(t, err, "stopped after 10 redirects")
	})

	t.Run("resolved once per connection", func(t *testing.T) {
		c := netSet(t, []string{"ok.test:" + port, "127.0.0.0/8:" + port}).HTTPClient(nil)
		before := res.count("ok.test")
		_, err := get(t, ctx, c, srv.at("ok.test", "/"))
		require.NoError(t, err)
		assert.Equal(t, before+1, res.count("ok.test"), "the checked addresses are the dialed ones")
	})

	t.Run("unknown name", func(t *testing.T) {
		c := netSet(t, []string{"nx.test:" + port}).HTTPClient(nil)
		_, err := get(t, ctx, c, srv.at("nx.test", "/"))
		assert.ErrorContains(t, err, "resolve nx.test: lookup nx.test: no such host")
		var d *capabilities.NetDeniedError
		assert.False(t, errors.As(err, &d))
	})

	t.Run("context bounds the request", func(t *testing.T) {
		slow := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		})
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := get(t, cctx, netSet(t, []string{"127.0.0.1:" + slow.port}).HTTPClient(nil), slow.at("127.0.0.1", "/"))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func FuzzCheckURL(f *testing.F) {
	allow := []string{"api.test", "*.example.test:8443", "127.0.0.0/8:8080", "[2001:db8::/32]:443"}
	deny := []string{"bad.example.test:8443", "127.0.0.2"}
	for _, s := range []string{
		"http://api.test/", "https://api.test:443/x", "http://API.test./", "https://a.example.test:8443/",
		"https://bad.example.test:8443/", "http://127.0.0.1:8080/", "http://[::ffff:127.0.0.1]:8080/",
		"https://[2001:db8::1]/", "file:///etc/passwd", "ftp://api.test/", "http://user:pw@api.test/",
		"http://api.test:0/", "http://[fe80::1%25lo]:8080/", "http://api.test%2eevil/", "http:api.test",
		"http://0x7f.0.0.1:8080/", "http://2130706433:8080/", "http://api.test\u212a/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		s := netSet(t, allow, deny...)
		ok, rule, err := s.CheckURL(u)
		if err != nil {
			if ok || rule != "" {
				t.Fatalf("%q: ok %v rule %q with error %v", raw, ok, rule, err)
			}
			return
		}
		if rule == "" {
			t.Fatalf("%q: no rule", raw)
		}
		if !ok {
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("%q: allowed scheme %q", raw, u.Scheme)
		}
		host := u.Hostname()
		for i := 0; i < len(host); i++ {
			if host[i] >= 0x80 {
				t.Fatalf("%q: allowed non-ASCII host %q", raw, host)
			}
		}
		if !strings.HasPrefix(rule, "allowed by ") {
			t.Fatalf("%q: allowed by rule %q", raw, rule)
		}
		h := strings.ToLower(strings.TrimSuffix(host, "."))
		if h == "bad.example.test" && (u.Port() == "8443") {
			t.Fatalf("%q: a denied host was allowed", raw)
		}
		if ip, err := netip.ParseAddr(host); err == nil {
			ip = ip.Unmap()
			if ip == netip.MustParseAddr("127.0.0.2") {
				t.Fatalf("%q: a denied address was allowed", raw)
			}
			if ip.Is4() && (!netip.MustParsePrefix("127.0.0.0/8").Contains(ip) || u.Port() != "8080") {
				t.Fatalf("%q: an address outside the grants was allowed", raw)
			}
		} else if h != "api.test" && !strings.HasSuffix(h, ".example.test") {
			t.Fatalf("%q: host %q outside the grants was allowed", raw, host)
		}
	})
}
