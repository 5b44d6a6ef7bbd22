package oci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/Masterminds/semver/v3"
)

// Versions lists the tags of ref's repository that are semantic versions
// (MAJOR.MINOR.PATCH[-PRE][+BUILD], no "v" prefix), in ascending order.
// Other tags ("latest", the referrers fallback tags "sha256-…") are left
// out. The tag list is read in at most MaxTagPages pages of at most
// MaxManifestSize bytes.
func (c *Client) Versions(ctx context.Context, ref Reference) ([]*semver.Version, error) {
	vs, err := c.versions(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("list versions of %s: %w", ref.Repo(), err)
	}
	return vs, nil
}

func (c *Client) versions(ctx context.Context, ref Reference) ([]*semver.Version, error) {
	repo, err := c.repo(ref)
	if err != nil {
		return nil, err
	}
	var vs []*semver.Version
	err = repo.Tags(ctx, "", func(tags []string) error {
		for _, t := range tags {
			if v, err := semver.StrictNewVersion(t); err == nil {
				vs = append(vs, v)
			}
		}
		return nil
	})
	if errors.Is(err, io.ErrUnexpectedEOF) {
		// oras-go reads at most MaxManifestSize bytes of a page.
		return nil, fmt.Errorf("%w: the tag list is larger than %d bytes, or was cut short: %w", ErrRegistry, c.opts.MaxManifestSize, err)
	}
	if err != nil {
		return nil, classify(err)
	}
	sort.Sort(semver.Collection(vs))
	return vs, nil
}

// Resolve returns ref with the tag of the highest version its repository
// has that constraint accepts (a Masterminds/semver constraint such as
// "^1.2", "~1.2.3", ">=1.0, <2"; "" or "*" for any release). Pre-releases
// match only a constraint that names one. No match is ErrVersion.
func (c *Client) Resolve(ctx context.Context, ref Reference, constraint string) (Reference, error) {
	if constraint == "" {
		constraint = "*"
	}
	cs, err := semver.NewConstraint(constraint)
	if err != nil {
		return Reference{}, fmt.Errorf("resolve %s %s: %w: constraint: %v", ref.Repo(), quote(constraint), ErrVersion, err)
	}
	vs, err := c.versions(ctx, ref)
	if err != nil {
		return Reference{}, fmt.Errorf("resolve %s %s: %w", ref.Repo(), constraint, err)
	}
	for i := len(vs) - 1; i >= 0; i-- {
		if cs.Check(vs[i]) {
			return ref.WithTag(vs[i].Original()), nil
		}
	}
	return Reference{}, fmt.Errorf("resolve %s %s: %w: no version matches (%d versions)", ref.Repo(), constraint, ErrVersion, len(vs))
}
