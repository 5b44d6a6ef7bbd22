package capabilities_test

import (
	"fmt"
	"net/url"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/manifest"
)

func ExampleSet_CheckURL() {
	caps, err := capabilities.Resolve(
		manifest.Capabilities{Net: []string{"api.example.com", "*.example.org:8443"}},
		capabilities.NewGrants().WithNet("api.example.com").WithNet("*.example.org:8443").WithoutNet("admin.example.org:8443"),
	)
	if err != nil {
		panic(err)
	}
	for _, raw := range []string{
		"https://api.example.com/v1/items",
		"https://cdn.example.org:8443/app.js",
		"https://admin.example.org:8443/",
		"http://api.example.com:8080/",
		"file:///etc/passwd",
	} {
		u, _ := url.Parse(raw)
		ok, rule, err := caps.CheckURL(u)
		fmt.Println(raw, ok, rule, err)
	}
	// Output:
	// https://api.example.com/v1/items true allowed by api.example.com <nil>
	// https://cdn.example.org:8443/app.js true allowed by *.example.org:8443 <nil>
	// https://admin.example.org:8443/ false denied by admin.example.org:8443 <nil>
	// http://api.example.com:8080/ false no net grant matches <nil>
	// file:///etc/passwd false scheme "file" is not allowed (only http and https) <nil>
}
