package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"aead.dev/minisign"
	"github.com/spf13/cobra"

	"github.com/vitte-lang/vitte-plugin/internal/boundedfile"
	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/trust"
)

// newTrustCmd is `vitte plugin trust`: the user's trust.toml (add, list,
// remove), see docs/trust.md.
func newTrustCmd(e *env) *cobra.Command {
	var policyPath string
	c := &cobra.Command{
		Use:   "trust",
		Short: "Manage the keys and policies that packages are verified against",
		Long: `Trust edits the trust policy: the keys whose signatures are trusted,
and for which package sources (docs/trust.md). The file is --policy FILE,
or by default $XDG_CONFIG_HOME/vitte/trust.toml (~/.config/vitte/trust.toml).

Each edit rewrites the whole file through a temporary file, checked
before it replaces the old one, so the file is always valid. The file is
written in a canonical form: comments are not kept.`,
		Example: `  vitte plugin trust add alice alice.pub
  vitte plugin trust add acme RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3 --scope 'oci://registry.example/acme/*'
  vitte plugin trust list
  vitte plugin trust remove alice`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return usageErrorf("missing command: run 'vitte plugin trust --help'")
		},
	}
	c.PersistentFlags().StringVar(&policyPath, "policy", "", "the trust policy `FILE` (default $XDG_CONFIG_HOME/vitte/trust.toml)")
	c.AddCommand(newTrustAddCmd(e, &policyPath), newTrustListCmd(e, &policyPath), newTrustRemoveCmd(e, &policyPath))
	return c
}

func newTrustAddCmd(e *env, policyPath *string) *cobra.Command {
	var (
		scopes []string
		level  string
	)
	c := &cobra.Command{
		Use:   "add NAME <PUBKEY_FILE | PUBKEY>",
		Short: "Trust a public key",
		Long: `Add names the minisign public key PUBKEY (the "RW..." string, or a .pub
file) NAME in the trust file and trusts it for each --scope: a source
pattern like 'oci://registry.example/vitte/*', 'file:///srv/plugins/*',
'name:acme-*', or '*' for every package (the default). The key joins the
policy that already has the scope; scopes no policy has get a new policy
at --level (default strict) needing one signature. --level also sets the
level of the existing policies the key joins.

Adding a key that is there under the same name only adds it to the
scopes; the same key under another name, or another key under the same
name, is an error.`,
		Example: `  vitte plugin trust add alice alice.pub
  vitte plugin trust add ci "$(cat /run/ci/vitte.pub)" --scope 'file:///srv/plugins/*' --level permissive`,
		Args: args(2, 2),
		RunE: func(cmd *cobra.Command, a []string) error {
			name := a[0]
			pub, err := readPublicKey(a[1])
			if err != nil {
				return err
			}
			path, pol, err := loadPolicyForEdit(*policyPath)
			if err != nil {
				return err
			}
			if level == string(trust.Audit) || level == string(trust.Skip) {
				warnf(e.stderr, "level %s never refuses a package under %s", level, strings.Join(orStar(scopes), ", "))
			}
			q, err := pol.WithKey(name, pub, scopes, trust.Level(level))
			if err != nil {
				return withCode(ExitUsage, err)
			}
			if err := trust.WriteFile(path, q); err != nil {
				return withCode(ExitError, err)
			}
			k, _ := q.Key(name)
			fmt.Fprintf(e.stdout, "%s %s %s trusted for %s in %s\n", k.Name, k.ID(), k.PublicKey.String(), strings.Join(orStar(scopes), ", "), path)
			return nil
		},
	}
	c.Flags().StringArrayVar(&scopes, "scope", nil, "trust the key for packages from `SCOPE` (repeatable; default '*')")
	c.Flags().StringVar(&level, "level", "", "level of the policy: strict, permissive, audit or skip (default strict for a new policy)")
	return c
}

func orStar(scopes []string) []string {
	if len(scopes) == 0 {
		return []string{"*"}
	}
	return scopes
}

func newTrustRemoveCmd(e *env, policyPath *string) *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Forget a public key",
		Long: `Remove deletes the key NAME from the trust file and from every policy. A
strict or permissive policy left without keys is deleted too, so that its
scopes fall back to a broader policy, or to trusting nothing.

To distrust a key that signed packages in the wild, prefer marking it
revoked = true in the file: a package signed by an unknown key is merely
untrusted (a permissive policy ignores the signature), while one signed by
a revoked key fails under every strict or permissive policy.`,
		Example: `  vitte plugin trust remove alice`,
		Args:    args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			path, pol, err := loadPolicyForEdit(*policyPath)
			if err != nil {
				return err
			}
			q, err := pol.WithoutKey(a[0])
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return withCode(ExitError, err, "list the keys with 'vitte plugin trust list'")
				}
				return withCode(ExitError, err)
			}
			if err := trust.WriteFile(path, q); err != nil {
				return withCode(ExitError, err)
			}
			fmt.Fprintf(e.stdout, "removed %s from %s\n", a[0], path)
			return nil
		},
	}
}

// trustList is the --json form of vitte plugin trust list.
type trustList struct {
	File     string        `json:"file"`
	Exists   bool          `json:"exists"`
	Keys     []trustKey    `json:"keys"`
	Policies []trustPolicy `json:"policies"`
}

type trustKey struct {
	Name      string `json:"name"`
	KeyID     string `json:"key_id"`
	PublicKey string `json:"public_key"`
	NotBefore string `json:"not_before,omitempty"`
	NotAfter  string `json:"not_after,omitempty"`
	Revoked   bool   `json:"revoked"`
}

type trustPolicy struct {
	Scopes          []string          `json:"scopes"`
	Level           string            `json:"level"`
	Keys            []string          `json:"keys"`
	Threshold       int               `json:"threshold"`
	MaxCapabilities *infoCapabilities `json:"max_capabilities,omitempty"`
}

func newTrustListCmd(e *env, policyPath *string) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list [--json]",
		Short: "Show the trusted keys and the policies",
		Long: `List shows the keys of the trust file, with their ids, validity periods
and revocations, and its policies in file order. --json prints the same
as one JSON object (keys: file, exists, keys[{name, key_id, public_key,
not_before, not_after, revoked}], policies[{scopes, level, keys,
threshold, max_capabilities}]).`,
		Example: `  vitte plugin trust list
  vitte plugin trust list --json | jq '.keys[].name'`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, pol, exists, err := loadPolicy(*policyPath)
			if err != nil {
				return err
			}
			l := trustList{File: path, Exists: exists, Keys: []trustKey{}, Policies: []trustPolicy{}}
			for _, k := range pol.Keys() {
				tk := trustKey{Name: k.Name, KeyID: k.ID(), PublicKey: k.PublicKey.String(), Revoked: k.Revoked}
				if !k.NotBefore.IsZero() {
					tk.NotBefore = k.NotBefore.UTC().Format(time.RFC3339)
				}
				if !k.NotAfter.IsZero() {
					tk.NotAfter = k.NotAfter.UTC().Format(time.RFC3339)
				}
				l.Keys = append(l.Keys, tk)
			}
			for _, r := range pol.Rules() {
				tp := trustPolicy{Scopes: r.Scopes, Level: string(r.Level), Keys: r.Keys, Threshold: r.Threshold}
				if c := r.MaxCapabilities; c != nil {
					tp.MaxCapabilities = capsJSON(c)
				}
				l.Policies = append(l.Policies, tp)
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return withCode(ExitError, enc.Encode(l))
			}
			if !exists {
				fmt.Fprintf(e.stderr, "vitte: hint: no trust file at %s: nothing is trusted; add a key with 'vitte plugin trust add NAME KEY.pub'\n", path)
			}
			printTrustList(e.stdout, l)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func capsJSON(c *manifest.Capabilities) *infoCapabilities {
	out := &infoCapabilities{FS: []infoFS{}, Net: nonNil(c.Net), Host: nonNil(c.Host), Env: nonNil(c.Env)}
	for _, f := range c.FS {
		out.FS = append(out.FS, infoFS{Path: f.Path, Mode: string(f.Mode)})
	}
	return out
}

func printTrustList(w io.Writer, l trustList) {
	fmt.Fprintf(w, "file: %s\n", l.File)
	fmt.Fprintf(w, "keys: %d\n", len(l.Keys))
	for _, k := range l.Keys {
		var notes []string
		if k.Revoked {
			notes = append(notes, "REVOKED")
		}
		if k.NotBefore != "" {
			notes = append(notes, "not before "+k.NotBefore)
		}
		if k.NotAfter != "" {
			notes = append(notes, "not after "+k.NotAfter)
		}
		line := fmt.Sprintf("  %s %s %s", k.Name, k.KeyID, k.PublicKey)
		if len(notes) > 0 {
			line += " (" + strings.Join(notes, ", ") + ")"
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "policies: %d\n", len(l.Policies))
	for i, p := range l.Policies {
		keys := strings.Join(p.Keys, ", ")
		if keys == "" {
			keys = "no key"
		}
		fmt.Fprintf(w, "  policy[%d] %s: %s, %d of %s\n", i, strings.Join(p.Scopes, " "), p.Level, p.Threshold, keys)
		if c := p.MaxCapabilities; c != nil {
			var parts []string
			for _, f := range c.FS {
				parts = append(parts, "fs "+f.Path+" ("+f.Mode+")")
			}
			for _, n := range c.Net {
				parts = append(parts, "net "+n)
			}
			for _, h := range c.Host {
				parts = append(parts, "host "+h)
			}
			for _, v := range c.Env {
				parts = append(parts, "env "+v)
			}
			if len(parts) == 0 {
				parts = []string{"nothing"}
			}
			fmt.Fprintf(w, "    max capabilities: %s\n", strings.Join(parts, ", "))
		}
	}
}

// policyFile returns the trust file to use: flag, or the default.
func policyFile(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	p, err := trust.DefaultPath()
	if err != nil {
		return "", withCode(ExitError, err, "pass --policy FILE")
	}
	return p, nil
}

// loadPolicy reads the trust file named by flag, or the default one. A
// missing default file is no policy (nil, exists false); a missing
// --policy file is an error.
func loadPolicy(flag string) (path string, pol *trust.Policy, exists bool, err error) {
	path, err = policyFile(flag)
	if err != nil {
		return "", nil, false, err
	}
	pol, err = trust.LoadFile(path)
	switch {
	case err == nil:
		return path, pol, true, nil
	case errors.Is(err, fs.ErrNotExist) && flag == "":
		return path, nil, false, nil
	case errors.Is(err, trust.ErrPolicy):
		return "", nil, false, withCode(ExitError, fmt.Errorf("invalid trust policy:\n%w", err), "fix "+path+", or pass --policy FILE")
	default:
		return "", nil, false, withCode(ExitError, err)
	}
}

// loadPolicyForEdit is loadPolicy for add and remove, for which a missing
// file, the default or --policy, is an empty policy to start from.
func loadPolicyForEdit(flag string) (string, *trust.Policy, error) {
	path, err := policyFile(flag)
	if err != nil {
		return "", nil, err
	}
	pol, err := trust.LoadFile(path)
	switch {
	case err == nil:
		return path, pol, nil
	case errors.Is(err, fs.ErrNotExist):
		return path, nil, nil
	case errors.Is(err, trust.ErrPolicy):
		return "", nil, withCode(ExitError, fmt.Errorf("invalid trust policy:\n%w", err), "fix "+path+" first: edits keep the file valid")
	default:
		return "", nil, withCode(ExitError, err)
	}
}

// readPublicKey reads a minisign public key given as the key itself
// ("RW...") or as a .pub file.
func readPublicKey(arg string) (minisign.PublicKey, error) {
	if strings.HasPrefix(arg, "RW") && len(arg) == 56 {
		pub, err := trust.ParsePublicKey([]byte(arg))
		if err != nil {
			return minisign.PublicKey{}, usageErrorf("%q: %v", arg, err)
		}
		return pub, nil
	}
	text, err := boundedfile.Read(arg, maxKeyFile)
	if err != nil {
		return minisign.PublicKey{}, withCode(ExitUsage, fmt.Errorf("read public key: %w", err), "give a .pub file or the key itself, like RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3")
	}
	pub, err := trust.ParsePublicKey(text)
	if err != nil {
		return minisign.PublicKey{}, usageErrorf("%s: %v", arg, err)
	}
	return pub, nil
}
