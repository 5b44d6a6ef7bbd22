package cli

import (
	"fmt"

	"github.com/vitte-lang/vitte-plugin/runtime"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// packageVerifier is how load and call check a .vitplug file given on the
// command line: through installVerifier (the trust policy), with the
// --policy and --insecure-allow-unsigned flags.
func (e *env) packageVerifier(gf *grantFlags) runtime.PackageVerifier {
	return func(pkg *vitplug.Package, source string) error {
		signers, err := installVerifier(pkg, source, gf.policy, gf.allowUnsigned)
		if err != nil {
			return fmt.Errorf("%w: %w", runtime.ErrUntrusted, err)
		}
		if len(signers) == 0 {
			warnf(e.stderr, "loading the unsigned package %s (--insecure-allow-unsigned)", source)
		}
		return nil
	}
}
