package forgeci

// Paths relative to the repository's top folder.
const (
	// WorkflowDir holds the Forgejo Actions workflows.
	WorkflowDir = ".forgejo/workflows"
	// Workflow is the CI workflow.
	Workflow = WorkflowDir + "/ci.yaml"
	// ActionlintConfig is actionlint's configuration for them: the runner
	// labels of Forgejo runners (actionlint only finds a configuration by
	// itself under .github/); internal/lint's actionlint step passes it.
	ActionlintConfig = ".forgejo/actionlint.yaml"
)

// Actions are the actions the workflows use, each resolved by Forgejo
// against its DEFAULT_ACTIONS_URL (by default Forgejo's own mirror of
// them), so the workflow needs no other forge.
var Actions = []string{"actions/checkout", "actions/setup-go", "actions/cache"}
