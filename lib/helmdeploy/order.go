package helmdeploy

import (
	"fmt"
	"slices"
)

// Order validates a release set and returns it in installation order: every
// release after the releases it depends on, and independent releases in
// the order given. A set with an empty or duplicate name, a release with
// not exactly one of Chart and Manifests (or Values on Manifests), a
// DependsOn naming no release of the set, or a dependency cycle is
// refused with a *ReleaseSetError or *CycleError (both wrap
// ErrInvalidRelease).
func Order(releases []Release) ([]Release, error) {
	index := make(map[string]int, len(releases))
	for i, r := range releases {
		if err := validateRelease(i, r); err != nil {
			return nil, err
		}
		if j, dup := index[r.Name]; dup {
			return nil, &ReleaseSetError{Release: r.Name, Index: i, Field: "Name", Reason: fmt.Sprintf("the name is also release #%d's; release names are unique", j)}
		}
		index[r.Name] = i
	}
	for i, r := range releases {
		for _, d := range r.DependsOn {
			if _, ok := index[d]; !ok {
				return nil, &ReleaseSetError{Release: r.Name, Index: i, Field: "DependsOn", Reason: fmt.Sprintf("%q names no release of the set", d)}
			}
			if d == r.Name {
				return nil, &CycleError{Cycle: []string{r.Name, r.Name}}
			}
		}
	}
	// Depth-first in declaration order: a release is emitted after its
	// dependencies, which keeps independent releases in the order given.
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(releases))
	out := make([]Release, 0, len(releases))
	var stack []string
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case done:
			return nil
		case visiting:
			start := slices.Index(stack, releases[i].Name)
			return &CycleError{Cycle: append(slices.Clone(stack[start:]), releases[i].Name)}
		}
		state[i] = visiting
		stack = append(stack, releases[i].Name)
		for _, d := range releases[i].DependsOn {
			if err := visit(index[d]); err != nil {
				return err
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
		out = append(out, releases[i])
		return nil
	}
	for i := range releases {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func validateRelease(i int, r Release) error {
	bad := func(field, reason string) error {
		return &ReleaseSetError{Release: r.Name, Index: i, Field: field, Reason: reason}
	}
	switch {
	case r.Name == "":
		return bad("Name", "empty; every release needs a name")
	case r.Namespace == "":
		return bad("Namespace", "empty; every release needs a namespace")
	case r.Chart == nil && len(r.Manifests) == 0:
		return bad("Chart", "neither Chart nor Manifests is set; set exactly one")
	case r.Chart != nil && len(r.Manifests) > 0:
		return bad("Chart", "both Chart and Manifests are set; set exactly one")
	case len(r.Manifests) > 0 && r.Values != nil:
		return bad("Values", "set on a Manifests release, which has no chart to take them")
	case r.Timeout < 0:
		return bad("Timeout", fmt.Sprintf("negative (%s)", r.Timeout))
	}
	if c := r.Chart; c != nil {
		switch {
		case c.Name == "":
			return bad("Chart.Name", "empty")
		case c.Version == "":
			return bad("Chart.Version", "empty; pin the exact chart version")
		case c.Repository == "":
			return bad("Chart.Repository", "empty; give the https:// or oci:// repository")
		}
	}
	return nil
}

// selectOnly keeps the ordered releases named in only (all when only is
// empty); a name of no release is refused.
func selectOnly(ordered []Release, only []string) ([]Release, error) {
	if len(only) == 0 {
		return ordered, nil
	}
	for i, n := range only {
		if !slices.ContainsFunc(ordered, func(r Release) bool { return r.Name == n }) {
			return nil, &ReleaseSetError{Release: n, Index: i, Field: "Only", Reason: "names no release of the set"}
		}
	}
	var out []Release
	for _, r := range ordered {
		if slices.Contains(only, r.Name) {
			out = append(out, r)
		}
	}
	return out, nil
}
