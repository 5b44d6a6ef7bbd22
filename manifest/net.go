package manifest

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// NetPattern is a parsed entry of capabilities.net: a host name, a wildcard
// domain, an IP address or a CIDR block, with an optional port.
//
//	api.example.com          the host api.example.com, ports 80 and 443
//	*.example.org:8443       any subdomain of example.org, port 8443
//	10.0.0.0/8:80            any address in 10.0.0.0/8, port 80
//	2001:db8::1              an IPv6 address, ports 80 and 443
//	[2001:db8::/32]:443      an IPv6 block, port 443 (brackets when a port follows)
type NetPattern struct {
	// Host is a lower-case ASCII host name, or for a wildcard pattern the
	// domain after "*.". It is empty when Prefix is set.
	Host string
	// Wildcard is set for a "*." pattern, which matches every subdomain of
	// Host, at any depth, but not Host itself.
	Wildcard bool
	// Prefix is set for an IP address (a prefix of one address) or a CIDR
	// block.
	Prefix netip.Prefix
	// Port is the port, or 0 when the pattern has none: the default ports 80
	// and 443 then apply.
	Port uint16
}

// maxNetPatternLen is the longest accepted net pattern: a 253-byte host name
// with "*." and a port.
const maxNetPatternLen = 264

// ParseNetPattern parses and validates an entry of capabilities.net. Host
// names are ASCII (use the punycode form of an internationalised name) and
// lower-case. "*" alone, URLs and paths are refused.
//
// An allow pattern must name destinations: an unspecified address
// (0.0.0.0, ::) or a block of this-network addresses (in 0.0.0.0/8), which
// connect to the host itself, is refused, and so is a block wider than /8
// ("0.0.0.0/0", "::/0"), for the same reason as "*". Deny rules, which
// may be as wide as they like, are read by [ParseDenyNetPattern].
func ParseNetPattern(s string) (NetPattern, error) {
	p, err := parseNetPattern(s)
	if err == nil {
		err = p.checkDestination()
	}
	if err != nil {
		return NetPattern{}, fmt.Errorf("invalid net pattern %s: %w", quote(s), err)
	}
	return p, nil
}

// ParseDenyNetPattern parses a pattern of destinations to refuse: the
// syntax of [ParseNetPattern], with blocks of any width and unspecified
// addresses allowed ("0.0.0.0/0" refuses every IPv4 address).
func ParseDenyNetPattern(s string) (NetPattern, error) {
	p, err := parseNetPattern(s)
	if err != nil {
		return NetPattern{}, fmt.Errorf("invalid net pattern %s: %w", quote(s), err)
	}
	return p, nil
}

// MinNetPrefixBits is the widest IP block an allow pattern may name: a /8.
const MinNetPrefixBits = 8

// thisNetwork is 0.0.0.0/8: connecting to an address in it reaches the host
// itself (0.0.0.0 is loopback on Linux).
var thisNetwork = netip.MustParsePrefix("0.0.0.0/8")

// checkDestination refuses an allow pattern that does not name
// destinations.
func (p NetPattern) checkDestination() error {
	if !p.Prefix.IsValid() {
		return nil
	}
	addr := p.Prefix.Addr().Unmap()
	switch {
	case p.Prefix.IsSingleIP() && addr.IsUnspecified():
		return fmt.Errorf("%s is not a destination: connecting to it reaches this host (name 127.0.0.1 or ::1 for loopback)", addr)
	case addr.Is4() && thisNetwork.Contains(addr) && (p.Prefix.Addr().Is4() && p.Prefix.Bits() >= 8 || p.Prefix.Addr().Is4In6() && p.Prefix.Bits() >= 96+8):
		return fmt.Errorf("%s is in 0.0.0.0/8, which is not a destination: connecting to it reaches this host", p.Prefix)
	case p.Prefix.Bits() < MinNetPrefixBits || p.Prefix.Addr().Is4In6() && p.Prefix.Bits() < 96+MinNetPrefixBits:
		return fmt.Errorf("%s is too wide: it would allow every address, loopback and private ones included; name blocks of /%d or narrower, like \"10.0.0.0/8\"", p.Prefix, MinNetPrefixBits)
	}
	return nil
}

func parseNetPattern(s string) (NetPattern, error) {
	var p NetPattern
	switch {
	case s == "":
		return p, errors.New("empty")
	case len(s) > maxNetPatternLen:
		return p, fmt.Errorf("too long (%d bytes, at most %d)", len(s), maxNetPatternLen)
	case strings.Contains(s, "://"):
		return p, errors.New(`want a host, not a URL: drop the scheme, like "api.example.com"`)
	case s == "*":
		return p, errors.New(`"*" would allow every host: name the hosts, or a domain like "*.example.org"`)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return p, errors.New("want a host name in ASCII without spaces (use the punycode form of an internationalised name)")
		}
	}

	host, port := s, ""
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return p, errors.New("missing ']'")
		}
		host, port = s[1:end], s[end+1:]
		if port != "" {
			if port[0] != ':' {
				return p, fmt.Errorf("unexpected %q after ']'", port)
			}
			if port = port[1:]; port == "" {
				return p, errors.New("empty port")
			}
		}
		prefix, err := parseIP(host)
		if err != nil {
			return p, err
		}
		if !prefix.Addr().Is6() {
			return p, errors.New("brackets are only for IPv6 addresses")
		}
		p.Prefix = prefix
	} else if strings.Count(s, ":") > 1 {
		prefix, err := parseIP(s)
		if err != nil && strings.Contains(s, "/") {
			return p, err
		}
		if err != nil {
			return p, errors.New(`invalid IPv6 address (put it in brackets when a port follows, like "[2001:db8::1]:443")`)
		}
		p.Prefix = prefix
		host = ""
	} else {
		if i := strings.LastIndexByte(s, ':'); i >= 0 {
			host, port = s[:i], s[i+1:]
			if port == "" {
				return p, errors.New("empty port")
			}
		}
		if host == "" {
			return p, errors.New("empty host")
		}
		if looksLikeIPv4(host) {
			prefix, err := parseIP(host)
			if err != nil {
				return p, err
			}
			p.Prefix = prefix
		} else if strings.Contains(host, "/") {
			return p, errors.New(`want a host, not a path: drop everything from the first "/"`)
		} else if err := p.parseHost(host); err != nil {
			return p, err
		}
	}
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 || port[0] < '1' || port[0] > '9' {
			return p, fmt.Errorf("invalid port %s: want 1 to 65535", quote(port))
		}
		p.Port = uint16(n)
	}
	return p, nil
}

// looksLikeIPv4 reports whether s is made of digits, dots and at most one
// '/': an address or a CIDR block rather than a host name.
func looksLikeIPv4(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && c != '.' && c != '/' {
			return false
		}
	}
	return true
}

// parseIP parses an address or a CIDR block, without zone, into a prefix.
func parseIP(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		prefix, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, errors.New("invalid CIDR block")
		}
		if m := prefix.Masked(); m != prefix {
			return netip.Prefix{}, fmt.Errorf("CIDR block has host bits set: want %q", m.String())
		}
		return prefix, nil
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, errors.New("invalid IP address")
	}
	if addr.Zone() != "" {
		return netip.Prefix{}, errors.New("IP address must not have a zone")
	}
	return netip.PrefixFrom(addr, addr.BitLen()), nil
}

// parseHost parses a host name or a "*." wildcard domain into p.
func (p *NetPattern) parseHost(host string) error {
	name, wildcard := strings.CutPrefix(host, "*.")
	if strings.Contains(name, "*") {
		return errors.New(`"*" is only allowed as a first "*." label`)
	}
	if name == "" {
		return errors.New("empty host")
	}
	if len(name) > 253 {
		return errors.New("host name longer than 253 bytes")
	}
	if strings.HasSuffix(name, ".") {
		return fmt.Errorf("host name must not end with '.': want %q", strings.TrimSuffix(host, "."))
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" {
			return errors.New("empty label in host name")
		}
		if len(l) > 63 {
			return errors.New("label longer than 63 bytes in host name")
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("label %q must not start or end with '-'", l)
		}
		for i := 0; i < len(l); i++ {
			switch c := l[i]; {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-':
			case 'A' <= c && c <= 'Z':
				return fmt.Errorf("host names are lower-case: want %q", strings.ToLower(host))
			default:
				return fmt.Errorf("invalid character %q in host name", c)
			}
		}
	}
	if isDigits(labels[len(labels)-1]) {
		return errors.New("neither an IP address nor a host name")
	}
	p.Host, p.Wildcard = name, wildcard
	return nil
}

// String returns the pattern in the form ParseNetPattern reads.
func (p NetPattern) String() string {
	var s string
	switch {
	case p.Prefix.IsValid():
		if p.Prefix.IsSingleIP() {
			s = p.Prefix.Addr().String()
		} else {
			s = p.Prefix.String()
		}
		if p.Port != 0 && p.Prefix.Addr().Is6() {
			s = "[" + s + "]"
		}
	case p.Wildcard:
		s = "*." + p.Host
	default:
		s = p.Host
	}
	if p.Port != 0 {
		s += ":" + strconv.Itoa(int(p.Port))
	}
	return s
}

// Match reports whether the pattern covers a connection to host (a host name
// or an IP address, IPv6 with or without brackets) on port. A pattern
// without a port covers ports 80 and 443.
func (p NetPattern) Match(host string, port uint16) bool {
	if p.Port == 0 && port != 80 && port != 443 || p.Port != 0 && port != p.Port {
		return false
	}
	return p.MatchHost(host)
}

// MatchHost reports whether the pattern covers host, whatever the port.
// Deny rules use it for a pattern without a port: such a rule refuses
// the host on every port, not only on 80 and 443.
func (p NetPattern) MatchHost(host string) bool {
	if p.Prefix.IsValid() {
		addr, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
		if err != nil || addr.Zone() != "" {
			return false
		}
		return p.Prefix.Contains(addr) || p.Prefix.Contains(addr.Unmap())
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if !p.Wildcard {
		return host == p.Host
	}
	sub, ok := strings.CutSuffix(host, "."+p.Host)
	return ok && sub != "" && !strings.HasPrefix(sub, ".") && !strings.HasSuffix(sub, ".") && !strings.Contains(sub, "..")
}
