// Command vitte loads, inspects and runs vitte-plugin plugins.
package main

import (
	"os"

	"github.com/vitte-lang/vitte-plugin/internal/cli"
)

func main() { os.Exit(cli.Main()) }
