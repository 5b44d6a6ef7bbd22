package manifest_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/manifest"
)

func TestParseNetPattern(t *testing.T) {
	tests := []struct {
		with     string
		expected manifest.NetPattern
	}{
		{"api.example.com", manifest.NetPattern{Host: "api.example.com"}},
		{"localhost", manifest.NetPattern{Host: "localhost"}},
		{"xn--bcher-kva.example", manifest.NetPattern{Host: "xn--bcher-kva.example"}},
		{"api.example.com:8080", manifest.NetPattern{Host: "api.example.com", Port: 8080}},
		{"*.example.org", manifest.NetPattern{Host: "example.org", Wildcard: true}},
		{"*.example.org:8443", manifest.NetPattern{Host: "example.org", Wildcard: true, Port: 8443}},
		{"10.0.0.1", manifest.NetPattern{Prefix: netip.MustParsePrefix("10.0.0.1/32")}},
		{"10.0.0.1:65535", manifest.NetPattern{Prefix: netip.MustParsePrefix("10.0.0.1/32"), Port: 65535}},
		{"10.0.0.0/8", manifest.NetPattern{Prefix: netip.MustParsePrefix("10.0.0.0/8")}},
		{"10.0.0.0/8:80", manifest.NetPattern{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Port: 80}},
		{"2001:db8::1", manifest.NetPattern{Prefix: netip.MustParsePrefix("2001:db8::1/128")}},
		{"2001:db8::/32", manifest.NetPattern{Prefix: netip.MustParsePrefix("2001:db8::/32")}},
		{"[2001:db8::1]", manifest.NetPattern{Prefix: netip.MustParsePrefix("2001:db8::1/128")}},
		{"[2001:db8::1]:443", manifest.NetPattern{Prefix: netip.MustParsePrefix("2001:db8::1/128"), Port: 443}},
		{"[2001:db8::/32]:1", manifest.NetPattern{Prefix: netip.MustParsePrefix("2001:db8::/32"), Port: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.with, func(t *testing.T) {
			p, err := manifest.ParseNetPattern(tc.with)
			require.NoError(t, err)
			require.Equal(t, tc.expected, p)
		})
	}
}

func TestParseNetPattern_Errors(t *testing.T) {
	tests := []struct{ with, expected string }{
		{"", `invalid net pattern "": empty`},
		{"*", `invalid net pattern "*": "*" would allow every host: name the hosts, or a domain like "*.example.org"`},
		{"*:443", `invalid net pattern "*:443": "*" is only allowed as a first "*." label`},
		{"https://example.org", `invalid net pattern "https://example.org": want a host, not a URL: drop the scheme, like "api.example.com"`},
		{"example.org/api", `invalid net pattern "example.org/api": want a host, not a path: drop everything from the first "/"`},
		{"example.org:", `invalid net pattern "example.org:": empty port`},
		{":80", `invalid net pattern ":80": empty host`},
		{"example.org:0", `invalid net pattern "example.org:0": invalid port "0": want 1 to 65535`},
		{"example.org:65536", `invalid net pattern "example.org:65536": invalid port "65536": want 1 to 65535`},
		{"example.org:080", `invalid net pattern "example.org:080": invalid port "080": want 1 to 65535`},
		{"example.org:+80", `invalid net pattern "example.org:+80": invalid port "+80": want 1 to 65535`},
		{"example.org:http", `invalid net pattern "example.org:http": invalid port "http": want 1 to 65535`},
		{"Example.org", `invalid net pattern "Example.org": host names are lower-case: want "example.org"`},
		{"example.org.", `invalid net pattern "example.org.": host name must not end with '.': want "example.org"`},
		{"a..example", `invalid net pattern "a..example": empty label in host name`},
		{".example", `invalid net pattern ".example": empty label in host name`},
		{"-a.example", `invalid net pattern "-a.example": label "-a" must not start or end with '-'`},
		{"a_b.example", `invalid net pattern "a_b.example": invalid character '_' in host name`},
		{"a b", `invalid net pattern "a b": want a host name in ASCII without spaces (use the punycode form of an internationalised name)`},
		{"bücher.example", `invalid net pattern "bücher.example": want a host name in ASCII without spaces (use the punycode form of an internationalised name)`},
		{"*.*.example.org", `invalid net pattern "*.*.example.org": "*" is only allowed as a first "*." label`},
		{"a.*.example.org", `invalid net pattern "a.*.example.org": "*" is only allowed as a first "*." label`},
		{"*example.org", `invalid net pattern "*example.org": "*" is only allowed as a first "*." label`},
		{"*.", `invalid net pattern "*.": empty host`},
		{"1.2.3", `invalid net pattern "1.2.3": invalid IP address`},
		{"256.0.0.1", `invalid net pattern "256.0.0.1": invalid IP address`},
		{"example.123", `invalid net pattern "example.123": neither an IP address nor a host name`},
		{"10.0.0.1/8", `invalid net pattern "10.0.0.1/8": CIDR block has host bits set: want "10.0.0.0/8"`},
		{"10.0.0.0/33", `invalid net pattern "10.0.0.0/33": invalid CIDR block`},
		{"10.0.0.0/8/8", `invalid net pattern "10.0.0.0/8/8": invalid CIDR block`},
		{"[10.0.0.1]:80", `invalid net pattern "[10.0.0.1]:80": brackets are only for IPv6 addresses`},
		{"[::1", `invalid net pattern "[::1": missing ']'`},
		{"[::1]80", `invalid net pattern "[::1]80": unexpected "80" after ']'`},
		{"[::1]:", `invalid net pattern "[::1]:": empty port`},
		{"[example.org]:80", `invalid net pattern "[example.org]:80": invalid IP address`},
		{"fe80::1%eth0", `invalid net pattern "fe80::1%eth0": invalid IPv6 address (put it in brackets when a port follows, like "[2001:db8::1]:443")`},
		{"[fe80::1%eth0]:80", `invalid net pattern "[fe80::1%eth0]:80": IP address must not have a zone`},
		{"2001:db8::1::2", `invalid net pattern "2001:db8::1::2": invalid IPv6 address (put it in brackets when a port follows, like "[2001:db8::1]:443")`},
		{"2001:db8::1/32", `invalid net pattern "2001:db8::1/32": CIDR block has host bits set: want "2001:db8::/32"`},
		{"2001:db8::/129", `invalid net pattern "2001:db8::/129": invalid CIDR block`},
		// Too wide, or not a destination: allowed only as deny rules.
		{"0.0.0.0/0", `invalid net pattern "0.0.0.0/0": 0.0.0.0/0 is too wide: it would allow every address, loopback and private ones included; name blocks of /8 or narrower, like "10.0.0.0/8"`},
		{"::/0", `invalid net pattern "::/0": ::/0 is too wide: it would allow every address, loopback and private ones included; name blocks of /8 or narrower, like "10.0.0.0/8"`},
		{"[::/0]:443", `invalid net pattern "[::/0]:443": ::/0 is too wide: it would allow every address, loopback and private ones included; name blocks of /8 or narrower, like "10.0.0.0/8"`},
		{"64.0.0.0/2", `invalid net pattern "64.0.0.0/2": 64.0.0.0/2 is too wide: it would allow every address, loopback and private ones included; name blocks of /8 or narrower, like "10.0.0.0/8"`},
		{"::ffff:0.0.0.0/96", `invalid net pattern "::ffff:0.0.0.0/96": ::ffff:0.0.0.0/96 is too wide: it would allow every address, loopback and private ones included; name blocks of /8 or narrower, like "10.0.0.0/8"`},
		{"0.0.0.0", `invalid net pattern "0.0.0.0": 0.0.0.0 is not a destination: connecting to it reaches this host (name 127.0.0.1 or ::1 for loopback)`},
		{"0.0.0.0:8080", `invalid net pattern "0.0.0.0:8080": 0.0.0.0 is not a destination: connecting to it reaches this host (name 127.0.0.1 or ::1 for loopback)`},
		{"::", `invalid net pattern "::": :: is not a destination: connecting to it reaches this host (name 127.0.0.1 or ::1 for loopback)`},
		{"[::]:8080", `invalid net pattern "[::]:8080": :: is not a destination: connecting to it reaches this host (name 127.0.0.1 or ::1 for loopback)`},
		{"::ffff:0.0.0.0", `invalid net pattern "::ffff:0.0.0.0": 0.0.0.0 is not a destination: connecting to it reaches this host (name 127.0.0.1 or ::1 for loopback)`},
		{"0.0.0.0/8", `invalid net pattern "0.0.0.0/8": 0.0.0.0/8 is in 0.0.0.0/8, which is not a destination: connecting to it reaches this host`},
		{"0.1.2.3", `invalid net pattern "0.1.2.3": 0.1.2.3/32 is in 0.0.0.0/8, which is not a destination: connecting to it reaches this host`},
	}
	for _, tc := range tests {
		t.Run(tc.with, func(t *testing.T) {
			_, err := manifest.ParseNetPattern(tc.with)
			require.EqualError(t, err, tc.expected)
		})
	}
}

func TestParseDenyNetPattern(t *testing.T) {
	// A deny rule may be as wide as it likes.
	for _, s := range []string{"0.0.0.0/0", "::/0", "0.0.0.0", "[::]:8080", "0.0.0.0/8", "10.0.0.0/8:80", "*.example.org"} {
		p, err := manifest.ParseDenyNetPattern(s)
		require.NoError(t, err, s)
		require.Equal(t, s, p.String())
	}
	_, err := manifest.ParseDenyNetPattern("*")
	require.EqualError(t, err, `invalid net pattern "*": "*" would allow every host: name the hosts, or a domain like "*.example.org"`)
}

func TestNetPattern_String(t *testing.T) {
	for _, s := range []string{
		"api.example.com", "api.example.com:8080", "*.example.org", "*.example.org:8443",
		"10.0.0.1", "10.0.0.1:80", "10.0.0.0/8", "10.0.0.0/8:80",
		"2001:db8::1", "2001:db8::/32", "[2001:db8::1]:443", "[2001:db8::/32]:443",
	} {
		t.Run(s, func(t *testing.T) {
			p, err := manifest.ParseNetPattern(s)
			require.NoError(t, err)
			require.Equal(t, s, p.String())
		})
	}
	p, err := manifest.ParseNetPattern("[2001:db8::1]")
	require.NoError(t, err)
	require.Equal(t, "2001:db8::1", p.String())
}

func TestNetPattern_Match(t *testing.T) {
	tests := []struct {
		pattern string
		host    string
		port    uint16
		match   bool
	}{
		{"api.example.com", "api.example.com", 443, true},
		{"api.example.com", "api.example.com", 80, true},
		{"api.example.com", "API.example.com.", 80, true},
		{"api.example.com", "api.example.com", 8080, false},
		{"api.example.com", "example.com", 443, false},
		{"api.example.com:8080", "api.example.com", 8080, true},
		{"api.example.com:8080", "api.example.com", 443, false},
		{"*.example.org", "a.example.org", 443, true},
		{"*.example.org", "a.b.example.org", 443, true},
		{"*.example.org", "example.org", 443, false},
		{"*.example.org", ".example.org", 443, false},
		{"*.example.org", "a..example.org", 443, false},
		{"*.example.org", "badexample.org", 443, false},
		{"10.0.0.0/8:80", "10.1.2.3", 80, true},
		{"10.0.0.0/8:80", "11.1.2.3", 80, false},
		{"10.0.0.0/8:80", "10.1.2.3", 443, false},
		{"10.0.0.0/8", "::ffff:10.1.2.3", 443, true},
		{"10.0.0.0/8", "ten.example", 443, false},
		{"2001:db8::/32", "[2001:db8::5]", 443, true},
		{"2001:db8::/32", "2001:db9::5", 443, false},
		{"2001:db8::/32", "fe80::1%eth0", 443, false},
	}
	for _, tc := range tests {
		p, err := manifest.ParseNetPattern(tc.pattern)
		require.NoError(t, err)
		require.Equal(t, tc.match, p.Match(tc.host, tc.port), "%s matches %s:%d", tc.pattern, tc.host, tc.port)
	}
}
