package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

func newLoadCmd(e *env) *cobra.Command {
	var (
		configs []string
		gf      grantFlags
	)
	c := &cobra.Command{
		Use:   "load <dir | file.vitplug | name>",
		Short: "Load a plugin, run its on-load hook, then unload it",
		Long: `Load reads the plugin in <dir> (its plugin.toml and the module it names),
or the package file.vitplug (whose signatures must pass the trust policy),
or the installed plugin <name> (with the grants approved at install; it is
marked enabled),
checks it against the plugin ABI, runs it in the sandbox: _initialize, then
on-load, whose output shows on stdout and stderr. Then it unloads the
plugin (on-unload) and exits 0. Any failure is printed on stderr with a
non-zero exit status.

The plugin gets what its plugin.toml requests AND the --allow-* flags
grant; by default nothing but computing, logging and stdout/stderr.
--deny-net wins over --allow-net; a --deny-net without a port refuses the
host on every port. A call that fails after a denied access
exits with status 4.`,
		Example: `  vitte plugin load testdata/wasm/hello-c
  vitte plugin load --config greeting=Bonjour ./myplugin
  vitte plugin load hello-c-0.1.0.vitplug --policy trust.toml
  vitte plugin load hello-c                    # installed with 'vitte plugin install'

  vitte plugin load --allow-fs /data=./data:rw --allow-net api.example.com --audit audit.jsonl ./myplugin`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			s, err := e.open(ctx, a[0], &gf, configs, false)
			if err != nil {
				return err
			}
			return classify(s.close(ctx))
		},
	}
	c.Flags().StringArrayVar(&configs, "config", nil, "override a [config] value, as `key=value` (repeatable)")
	gf.register(c.Flags())
	gf.registerTrust(c.Flags())
	return c
}

func loadConfig(pairs []string) (runtime.LoadConfig, error) {
	lc := runtime.NewLoadConfig()
	for _, kv := range pairs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return lc, usageErrorf("--config %q: want key=value", kv)
		}
		lc = lc.WithConfigValue(k, v)
	}
	return lc, nil
}
