package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/manifest"
)

// grantFlags are the flags that grant a plugin capabilities. What a plugin
// gets is what its manifest requests intersected with these.
type grantFlags struct {
	fs, net, denyNet, host, env []string
	all                         bool
	audit                       string
	auditAllowed                bool
	// For .vitplug files given to load and call.
	policy        string
	allowUnsigned bool
}

func (g *grantFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&g.fs, "allow-fs", nil, "grant the requested guest path `GUEST=HOSTDIR[:ro|:rw]` (default :ro; never more than requested)")
	fs.StringArrayVar(&g.net, "allow-net", nil, "grant network access to `HOST[:PORT]` (a host, *.domain, IP or CIDR; ports 80 and 443 when none)")
	fs.StringArrayVar(&g.denyNet, "deny-net", nil, "deny network access to `HOST[:PORT]` (without a port: on every port), whatever else allows it")
	fs.StringArrayVar(&g.host, "allow-host", nil, "grant host calls matching `NAME` (\"compiler.ast\", \"studio.*\")")
	fs.StringArrayVar(&g.env, "allow-env", nil, "let the plugin read the environment variable `VAR`")
	fs.BoolVar(&g.all, "allow-all", false, "grant every net, host and env request of the manifest (fs still needs --allow-fs)")
	fs.StringVar(&g.audit, "audit", "", "append capability decisions to `FILE` as JSON Lines")
	fs.BoolVar(&g.auditAllowed, "audit-allowed", false, "record allowed decisions too, not only denials")
}

// registerTrust adds the flags that say how a .vitplug file is trusted.
func (g *grantFlags) registerTrust(fs *pflag.FlagSet) {
	fs.StringVar(&g.policy, "policy", "", "check package signatures against the trust policy `FILE` (default $XDG_CONFIG_HOME/vitte/trust.toml)")
	fs.BoolVar(&g.allowUnsigned, "insecure-allow-unsigned", false, "load a .vitplug package that is unsigned or untrusted, with a warning")
}

// changesGrants reports whether any flag grants or denies something.
func (g *grantFlags) changesGrants() bool {
	return len(g.fs)+len(g.net)+len(g.denyNet)+len(g.host)+len(g.env) > 0 || g.all
}

// grants builds the capabilities.Grants the flags describe.
func (g *grantFlags) grants() (capabilities.Grants, error) {
	out := capabilities.NewGrants()
	for _, f := range g.fs {
		guest, host, ok := strings.Cut(f, "=")
		if !ok || guest == "" || host == "" {
			return out, usageErrorf("--allow-fs %q: want GUEST=HOSTDIR[:ro|:rw]", f)
		}
		mode := manifest.ReadOnly
		if h, m, ok := cutLast(host, ":"); ok && (m == "ro" || m == "rw") {
			host, mode = h, manifest.Mode(m)
		}
		abs, err := filepath.Abs(host)
		if err != nil {
			return out, usageErrorf("--allow-fs %q: %v", f, err)
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return out, usageErrorf("--allow-fs %q: %v", f, err)
		}
		if !fi.IsDir() {
			return out, usageErrorf("--allow-fs %q: %s is not a directory", f, abs)
		}
		out = out.WithDir(guest, abs, mode)
	}
	for _, n := range g.net {
		if _, err := manifest.ParseNetPattern(n); err != nil {
			return out, usageErrorf("--allow-net: %v", err)
		}
		out = out.WithNet(n)
	}
	for _, n := range g.denyNet {
		if _, err := manifest.ParseDenyNetPattern(n); err != nil {
			return out, usageErrorf("--deny-net: %v", err)
		}
		out = out.WithoutNet(n)
	}
	for _, h := range g.host {
		if err := manifest.CheckHostPattern(h); err != nil {
			return out, withCode(ExitUsage, fmt.Errorf("--allow-host: %w", err),
				`a pattern names host calls: "compiler.ast", or "studio.*" for a namespace`)
		}
		out = out.WithHostCall(h)
	}
	for _, e := range g.env {
		if err := manifest.CheckEnvName(e); err != nil {
			hint := "--allow-env takes the name of one variable (repeat the flag for more); its value comes from your environment"
			if strings.Contains(e, "*") {
				hint = "--allow-env takes no patterns: name each variable (repeat the flag), or use --allow-all for every variable the plugin requests"
			}
			return out, withCode(ExitUsage, fmt.Errorf("--allow-env: %w", err), hint)
		}
		out = out.WithEnv(e)
	}
	if g.all {
		out = out.WithAll()
	}
	return out, nil
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// openAudit opens the --audit file for appending, owner-only.
func (g *grantFlags) openAudit() (capabilities.Auditor, func() error, error) {
	if g.audit == "" {
		return nil, func() error { return nil }, nil
	}
	f, err := os.OpenFile(g.audit, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, withCode(ExitError, fmt.Errorf("open audit log: %w", err))
	}
	return capabilities.JSONLines(f), f.Close, nil
}
