package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

func newLoadCmd(e *env) *cobra.Command {
	var configs []string
	c := &cobra.Command{
		Use:   "load <dir>",
		Short: "Load a plugin, run its on-load hook, then unload it",
		Long: `Load reads the plugin in <dir> (its plugin.toml and the module it names),
checks it against the plugin ABI, runs it in the sandbox: _initialize, then
on-load, whose output shows on stdout and stderr. Then it unloads the
plugin (on-unload) and exits 0. Any failure is printed on stderr with a
non-zero exit status.`,
		Example: `  vitte plugin load testdata/wasm/hello-c
  vitte plugin load --config greeting=Bonjour ./myplugin`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			lc, err := loadConfig(configs)
			if err != nil {
				return err
			}
			rt, err := e.runtime(ctx, false)
			if err != nil {
				return classify(err)
			}
			defer rt.Close(ctx)
			p, err := rt.LoadWithConfig(ctx, a[0], lc)
			if err != nil {
				return classify(err)
			}
			return classify(p.Close(ctx))
		},
	}
	c.Flags().StringArrayVar(&configs, "config", nil, "override a [config] value, as `key=value` (repeatable)")
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
