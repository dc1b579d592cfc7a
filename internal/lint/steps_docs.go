package lint

// DocsSteps are the steps of the docs part, in order, for Steps to list
// (the lead wires them in where steps.go lists the others).
func DocsSteps() []Step {
	return []Step{Docs()}
}
