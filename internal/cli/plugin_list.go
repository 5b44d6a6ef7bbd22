package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vitte-lang/vitte-plugin/registry"
)

// newListCmd is `vitte plugin list`.
func newListCmd(e *env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List the plugins installed in the local registry",
		Long: `List shows the plugins installed in the registry ($VITTE_HOME, default
~/.vitte), one a line: name, version, whether it is enabled, who signed
it, its state (ok, or quarantined: a host stopped calling it after
repeated traps or timeouts, see 'vitte plugin release'), its content id
(shortened) and the capabilities granted to it.

--json prints a JSON array instead, one object per plugin, with the keys
of the registry's index: name, version, content_id, sha256, source,
signers, grants{fs[{guest,host,mode}],net,deny_net,host,env,all},
enabled, dependencies[{name,constraint,version}], installed_at, and
quarantine{since,version,reason} while the plugin is quarantined.`,
		Example: `  vitte plugin list
  vitte plugin list --json | jq -r '.[] | select(.enabled) | .name'`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			reg, err := openRegistry()
			if err != nil {
				return err
			}
			list := reg.List()
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				if list == nil {
					list = []registry.Entry{}
				}
				return withCode(ExitError, enc.Encode(list))
			}
			if len(list) == 0 {
				fmt.Fprintf(e.stderr, "vitte: hint: no plugin is installed in %s: install one with 'vitte plugin install FILE'\n", reg.Dir())
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tENABLED\tSTATE\tSIGNER\tCONTENT\tGRANTS")
			for _, p := range list {
				enabled := "no"
				if p.Enabled {
					enabled = "yes"
				}
				signer := "unsigned"
				if len(p.Signers) > 0 {
					signer = strings.Join(p.Signers, ",")
				}
				state := "ok"
				if p.Quarantine != nil {
					state = "quarantined"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Version, enabled, state, signer, shortID(p.ContentID), p.Grants)
			}
			if err := tw.Flush(); err != nil {
				return withCode(ExitError, err)
			}
			for _, p := range list {
				if q := p.Quarantine; q != nil {
					fmt.Fprintf(e.stderr, "vitte: warning: %s %s is quarantined since %s: %s\n", p.Name, q.Version, q.Since.Format(time.RFC3339), firstLine(q.Reason))
					fmt.Fprintf(e.stderr, "vitte: hint: once fixed, run 'vitte plugin release %s' or install a fixed version\n", p.Name)
				}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return c
}

// firstLine returns the first line of s, marked when there are more.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " (and more)"
	}
	return s
}

// shortID shortens a content id to "h1:" and 12 characters.
func shortID(id string) string {
	if len(id) > 15 {
		return id[:15]
	}
	return id
}
