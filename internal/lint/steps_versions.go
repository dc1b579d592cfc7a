package lint

// VersionSteps returns the steps of the version rule, in order, for
// Steps to list.
func VersionSteps() []Step {
	return []Step{Versions()}
}
