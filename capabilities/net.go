package capabilities

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Limits of the HTTP client a Set builds ([Set.HTTPClient]).
const (
	// MaxRedirects is how many redirects one request may follow.
	MaxRedirects = 10
	// MaxResponseHeaderBytes bounds the response headers the client reads.
	MaxResponseHeaderBytes = 64 << 10
)

// Resolver looks up the IP addresses of a host name; *net.Resolver
// implements it. network is "ip", "ip4" or "ip6".
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

type resolverKey struct{}

// WithResolver returns a copy of ctx under which the network checks of
// [Set.HTTPClient] resolve host names with r instead of
// net.DefaultResolver. The addresses r returns are checked like any
// others: r decides where a name points, never whether it may be reached.
//
// # Notes
//
// It exists for tests (a name mapped to 127.0.0.1 without DNS) and for
// applications that resolve names their own way. Only the application
// sets it: a plugin never sees the context of its call.
func WithResolver(ctx context.Context, r Resolver) context.Context {
	return context.WithValue(ctx, resolverKey{}, r)
}

func resolverFrom(ctx context.Context) Resolver {
	if r, ok := ctx.Value(resolverKey{}).(Resolver); ok && r != nil {
		return r
	}
	return net.DefaultResolver
}

// NetDeniedError is a network destination refused by a Set's rules.
type NetDeniedError struct {
	// Resource is what was refused: a URL (password redacted).
	Resource string
	// Rule says why ("no net grant matches", "denied by 10.0.0.0/8").
	Rule string
}

func (e *NetDeniedError) Error() string {
	return fmt.Sprintf("permission denied: request to %q: %s", e.Resource, e.Rule)
}

// CheckURL decides whether a request to u may be made: the scheme is http
// or https, the host is ASCII, and the host and port (80 or 443 by
// default) are allowed by [Set.AllowNet], deny rules first. It returns the
// rule that decided; err reports a URL that cannot be checked (no host, a
// bad port) and comes with ok false.
//
// CheckURL looks at the name only: the addresses a name resolves to are
// checked when the connection is made ([Set.HTTPClient]).
func (s *Set) CheckURL(u *url.URL) (ok bool, rule string, err error) {
	if u == nil {
		return false, "", errors.New("no URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return false, fmt.Sprintf("scheme %q is not allowed (only http and https)", u.Scheme), nil
	}
	host, port, err := urlHostPort(u)
	if err != nil {
		return false, "", err
	}
	ok, rule = s.AllowNet(host, port)
	return ok, rule, nil
}

// urlHostPort returns the host and port an http or https URL points to,
// checking that they can be matched against net patterns.
func urlHostPort(u *url.URL) (string, uint16, error) {
	host := u.Hostname()
	if u.Opaque != "" || host == "" {
		return "", 0, fmt.Errorf("URL %q has no host", u.Redacted())
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; c <= ' ' || c >= 0x7f {
			return "", 0, fmt.Errorf("host %q: want ASCII (the punycode form of an internationalised name)", host)
		}
	}
	var port uint16
	switch p := u.Port(); {
	case p != "":
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return "", 0, fmt.Errorf("invalid port %q: want 1 to 65535", p)
		}
		port = uint16(n)
	case u.Scheme == "https":
		port = 443
	default:
		port = 80
	}
	return host, port, nil
}

// IsPrivate reports whether addr is anything but a public unicast
// address: loopback (127.0.0.0/8, ::1), private (10.0.0.0/8,
// 172.16.0.0/12, 192.168.0.0/16, fc00::/7), link-local (169.254.0.0/16,
// which holds cloud metadata services, fe80::/10), unspecified (0.0.0.0,
// ::), multicast, and the other special-purpose blocks (0.0.0.0/8,
// 100.64.0.0/10, 192.0.0.0/24, 198.18.0.0/15, 240.0.0.0/4, fec0::/10,
// IPv4-compatible ::/96, NAT64 and 6to4 addresses that embed one of those).
// An IPv4-mapped IPv6 address is judged by its IPv4 address.
func IsPrivate(addr netip.Addr) bool { return addrClass(addr) != "" }

// specialBlocks are the special-purpose blocks that netip.Addr has no
// method for, with the name addrClass gives them.
var specialBlocks = []struct {
	prefix netip.Prefix
	class  string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "this-network"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("fec0::/10"), "site-local"},
	{netip.MustParsePrefix("::/96"), "IPv4-compatible"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local NAT64"},
}

var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// addrClass names the kind of non-public address addr is, or returns ""
// for a public unicast address.
func addrClass(addr netip.Addr) string {
	addr = addr.Unmap()
	switch {
	case !addr.IsValid():
		return "invalid"
	case addr.Zone() != "":
		return "scoped"
	case addr.IsUnspecified():
		return "unspecified"
	case addr.IsLoopback():
		return "loopback"
	case addr.IsPrivate():
		return "private"
	case addr.IsLinkLocalUnicast():
		return "link-local"
	case addr.IsMulticast(), addr.IsLinkLocalMulticast(), addr.IsInterfaceLocalMulticast():
		return "multicast"
	}
	for _, b := range specialBlocks {
		if b.prefix.Contains(addr) {
			return b.class
		}
	}
	// Addresses that carry an IPv4 address a gateway may connect to.
	a := addr.As16()
	switch {
	case nat64.Contains(addr):
		if c := addrClass(netip.AddrFrom4([4]byte(a[12:16]))); c != "" {
			return "NAT64 " + c
		}
	case sixTo4.Contains(addr):
		if c := addrClass(netip.AddrFrom4([4]byte(a[2:6]))); c != "" {
			return "6to4 " + c
		}
	}
	return ""
}

// CheckAddr decides whether a connection to the IP address addr on port
// may be made, once the name that led to it was allowed: a deny rule for
// an address or block covering addr refuses it; a non-public address
// ([IsPrivate]) must itself be covered by an allowed IP or CIDR pattern;
// any other address is allowed.
func (s *Set) CheckAddr(addr netip.Addr, port uint16) (ok bool, rule string) {
	ok, why, private := s.checkAddr(addr, port)
	if private && !ok {
		return false, addr.Unmap().String() + " is " + why
	}
	return ok, why
}

// checkAddr is CheckAddr; why reads after the address ("a loopback
// address not covered by an IP or CIDR grant", "denied by 10.0.0.0/8").
func (s *Set) checkAddr(addr netip.Addr, port uint16) (ok bool, why string, private bool) {
	addr = addr.Unmap()
	ip := addr.String()
	for _, d := range s.DenyNet {
		if d.Prefix.IsValid() && denies(d, ip, port) {
			return false, "denied by " + d.String(), false
		}
	}
	class := addrClass(addr)
	switch class {
	case "":
		return true, "a public address", false
	case "unspecified", "this-network":
		// Connecting to 0.0.0.0 reaches the host itself; no pattern may
		// name these (manifest.ParseNetPattern), and none covers them.
		return false, article(class) + " " + class + " address, which reaches this host: never allowed", true
	}
	for _, a := range s.Net {
		if a.Prefix.IsValid() && a.Match(ip, port) {
			return true, "allowed by " + a.String(), true
		}
	}
	return false, fmt.Sprintf("%s %s address not covered by an IP or CIDR grant", article(class), class), true
}

// article returns "a" or "an" for the word w.
func article(w string) string {
	if w != "" && strings.IndexByte("aeiouAEIOU", w[0]) >= 0 {
		return "an"
	}
	return "a"
}

// hop is what the dialer knows about the request it dials for.
type hop struct {
	resource string
	deadline time.Time
}

type hopKey struct{}

// HTTPClient returns an HTTP client that can only reach what s allows.
// report, which may be nil, is told every decision: each URL (the request's
// and every redirect's) once, and each refused address.
//
// The client:
//
//  1. checks the URL of every request and redirect with [Set.CheckURL];
//  2. follows at most [MaxRedirects] redirects;
//  3. resolves the name when it connects (with the [Resolver] of
//     [WithResolver], or net.DefaultResolver), checks every address with
//     [Set.CheckAddr], refusing the request if any is refused, and dials
//     the checked addresses, so that a name that changes between the check
//     and the connection (DNS rebinding) cannot lead elsewhere; the
//     dialer's Control hook checks the address of each socket once more;
//  4. uses no proxy from the environment, no cookie jar and no
//     keep-alive: each client serves one request and its redirects.
//
// A refused request fails with an error wrapping a *[NetDeniedError].
// Bound each request with its context; the client has no timeout of its
// own.
func (s *Set) HTTPClient(report func(resource, rule string, allowed bool)) *http.Client {
	if report == nil {
		report = func(string, string, bool) {}
	}
	g := &guard{s: s, report: report}
	g.next = &http.Transport{
		Proxy:                  nil,
		DialContext:            g.dial,
		DisableKeepAlives:      true,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		MaxResponseHeaderBytes: MaxResponseHeaderBytes,
	}
	return &http.Client{
		Transport: g,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= MaxRedirects {
				return fmt.Errorf("stopped after %d redirects", MaxRedirects)
			}
			return nil // RoundTrip checks the URL
		},
	}
}

// guard is the client's RoundTripper: it checks each request's URL, then
// hands it to the transport, whose dialer checks the addresses.
type guard struct {
	s      *Set
	report func(resource, rule string, allowed bool)
	next   *http.Transport
}

func (g *guard) deny(resource, rule string) error {
	g.report(resource, rule, false)
	return &NetDeniedError{Resource: resource, Rule: rule}
}

// RoundTrip checks the URL of req and sends it.
func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	resource := req.URL.Redacted()
	ok, rule, err := g.s.CheckURL(req.URL)
	if err == nil && !ok {
		err = g.deny(resource, rule)
	}
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	g.report(resource, rule, true)
	h := hop{resource: resource}
	h.deadline, _ = req.Context().Deadline()
	return g.next.RoundTrip(req.WithContext(context.WithValue(req.Context(), hopKey{}, h)))
}

// CloseIdleConnections closes the transport's idle connections.
func (g *guard) CloseIdleConnections() { g.next.CloseIdleConnections() }

// dial connects to addr ("host:port") for the transport: it checks the
// name again, resolves it, checks every address and dials them in turn.
func (g *guard) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	h, _ := ctx.Value(hopKey{}).(hop)
	if h.resource == "" {
		h.resource = addr
	}
	// The transport detaches the dial from the request's cancellation:
	// bound it by the request's deadline.
	if !h.deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, h.deadline)
		defer cancel()
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	p, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || p == 0 {
		return nil, fmt.Errorf("dial %s: invalid port", addr)
	}
	port := uint16(p)
	if ok, rule := g.s.AllowNet(host, port); !ok {
		return nil, g.deny(h.resource, rule)
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		ipNet := "ip"
		switch network {
		case "tcp4":
			ipNet = "ip4"
		case "tcp6":
			ipNet = "ip6"
		}
		addrs, err = resolverFrom(ctx).LookupNetIP(ctx, ipNet, host)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", host, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("resolve %s: no addresses", host)
		}
	}
	for _, a := range addrs {
		ok, why, _ := g.s.checkAddr(a, port)
		if ok {
			continue
		}
		rule := a.Unmap().String() + " is " + why
		if !strings.EqualFold(a.Unmap().String(), host) {
			rule = fmt.Sprintf("%s resolves to %s, %s", host, a.Unmap(), why)
		}
		return nil, g.deny(h.resource, rule)
	}
	d := net.Dialer{Control: g.control(h.resource)}
	var errs []error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, network, netip.AddrPortFrom(a.Unmap(), port).String())
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// control returns the dialer's Control hook, the last word: whatever
// address a socket is about to connect to must pass CheckAddr.
func (g *guard) control(resource string) func(network, address string, c syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return g.deny(resource, fmt.Sprintf("unexpected dial address %q", address))
		}
		if ok, rule := g.s.CheckAddr(ap.Addr(), ap.Port()); !ok {
			return g.deny(resource, rule)
		}
		return nil
	}
}

// Interface guards
var (
	_ http.RoundTripper = (*guard)(nil)
	_ Resolver          = (*net.Resolver)(nil)
)
