package trust_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/trust"
)

const contentID = "h1:/PzbJFd7dCrjQZMv6YnlZw918pySXGHFzliZDmj9F7U="

func TestStatement_String(t *testing.T) {
	s := trust.Statement{Name: "hello-c", Version: "0.1.0", ContentID: contentID, Time: time.Unix(1767225600, 0)}
	require.Equal(t, "vitte-plugin v1 name=hello-c version=0.1.0 content="+contentID+" ts=1767225600", s.String())
	back, err := trust.ParseStatement(s.String())
	require.NoError(t, err)
	require.Equal(t, s.Name, back.Name)
	require.Equal(t, s.Version, back.Version)
	require.Equal(t, s.ContentID, back.ContentID)
	require.True(t, s.Time.Equal(back.Time))
	require.Equal(t, time.UTC, back.Time.Location())
}

func TestParseStatement_Errors(t *testing.T) {
	good := "name=hello version=0.1.0 content=" + contentID + " ts=1"
	tests := []struct {
		name, with, err string
	}{
		{name: "minisign default", with: "timestamp:1767225600\tfile:CHECKSUMS\thashed", err: `is not a vitte-plugin v1 statement`},
		{name: "other version", with: "vitte-plugin v2 " + good, err: `is not a vitte-plugin v1 statement`},
		{name: "empty", with: "", err: `is not a vitte-plugin v1 statement`},
		{name: "missing field", with: "vitte-plugin v1 name=hello version=0.1.0 content=" + contentID, err: `want 4 fields`},
		{name: "extra field", with: "vitte-plugin v1 " + good + " x=1", err: `want 4 fields`},
		{name: "two spaces", with: "vitte-plugin v1 name=hello  version=0.1.0 content=" + contentID + " ts=1", err: `want 4 fields`},
		{name: "trailing space", with: "vitte-plugin v1 " + good + " ", err: `want 4 fields`},
		{name: "order", with: "vitte-plugin v1 version=0.1.0 name=hello content=" + contentID + " ts=1", err: `field 1 is not name=`},
		{name: "empty name", with: "vitte-plugin v1 name= version=0.1.0 content=" + contentID + " ts=1", err: `name: empty value`},
		{name: "control", with: "vitte-plugin v1 name=he\x1bllo version=0.1.0 content=" + contentID + " ts=1", err: `name: byte 0x1b not allowed`},
		{name: "tab", with: "vitte-plugin v1 name=hello\tx version=0.1.0 content=" + contentID + " ts=1", err: `byte 0x09 not allowed`},
		{name: "content not h1", with: "vitte-plugin v1 name=hello version=0.1.0 content=h2:abc ts=1", err: `content: "h2:abc" is not a content id`},
		{name: "content short", with: "vitte-plugin v1 name=hello version=0.1.0 content=h1:AAAA ts=1", err: `is not a content id`},
		{name: "content not canonical", with: "vitte-plugin v1 name=hello version=0.1.0 content=h1:/PzbJFd7dCrjQZMv6YnlZw918pySXGHFzliZDmj9F7V= ts=1", err: `is not a canonical content id`},
		{name: "ts negative", with: "vitte-plugin v1 name=hello version=0.1.0 content=" + contentID + " ts=-1", err: `ts: "-1" is not a number of seconds`},
		{name: "ts leading zero", with: "vitte-plugin v1 name=hello version=0.1.0 content=" + contentID + " ts=01", err: `ts: "01": leading zero`},
		{name: "ts overflow", with: "vitte-plugin v1 name=hello version=0.1.0 content=" + contentID + " ts=99999999999999999999", err: `is out of range`},
		{name: "too long", with: "vitte-plugin v1 name=" + string(make([]byte, 2000)), err: `longer than 1024`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := trust.ParseStatement(tc.with)
			require.ErrorContains(t, err, tc.err)
		})
	}
}
