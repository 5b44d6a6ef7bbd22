package python_test

import (
	"fmt"

	"github.com/vitte-lang/vitte-plugin/adapters/python"
)

// The "vitte:python" custom section of an interpreter module, as build.sh
// writes it.
func ExampleParseInfo() {
	info, err := python.ParseInfo([]byte("cpython=3.11.2\ndebian-source=python3.11 3.11.2-6+deb12u8\n"))
	if err != nil {
		panic(err)
	}
	fmt.Println(info.Get("cpython"))
	fmt.Println(info.Get("debian-source"))
	// Output:
	// 3.11.2
	// python3.11 3.11.2-6+deb12u8
}
