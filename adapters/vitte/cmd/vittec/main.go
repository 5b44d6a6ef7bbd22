// Command vittec compiles a Vitte plugin into a plugin folder, as
// `vitte plugin build` does; scripts/build-vitte-fixtures.sh runs it.
//
//	go run ./adapters/vitte/cmd/vittec [-o DIR] file.vit
//
// It prints the folder it wrote on stdout. Compile errors go to stderr,
// with exit status 1; usage errors exit with 2.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/vitte-lang/vitte-plugin/adapters/vitte"
)

func main() {
	out := flag.String("o", "", "output folder (default: a folder named after the plugin, next to the source)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: vittec [-o DIR] file.vit")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	_, dir, err := vitte.BuildFile(flag.Arg(0), *out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%v\n", err)
		os.Exit(1)
	}
	fmt.Println(dir)
}
