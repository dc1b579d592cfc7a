package trivyscan_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/trivyscan"
)

// repoRoot is the repository's root.
var repoRoot = filepath.Join("..", "..")

// TestTheRepositoryAcceptsFindingsWithReasons: every entry of the
// committed .trivyignore.yaml names its check and says why it is accepted.
func TestTheRepositoryAcceptsFindingsWithReasons(t *testing.T) {
	accepted, err := trivyscan.LoadIgnore(filepath.Join(repoRoot, ".trivyignore.yaml"))
	require.NoError(t, err)
	for _, a := range accepted {
		require.NotEmpty(t, a.ID)
		require.NotEmpty(t, a.Statement, ".trivyignore.yaml:%d", a.Line)
	}
}

func TestLoadIgnore(t *testing.T) {
	tests := []struct {
		file    string
		want    []trivyscan.Accepted
		wantErr string
	}{
		{file: "good.yaml", want: []trivyscan.Accepted{{Kind: "misconfigurations", ID: "AWS-0107", Paths: []string{"terraform/insecure/main.tf"},
			Statement: "the fixture's rule is open to the world on purpose", Line: 2}}},
		{file: "empty.yaml"},
		{file: "no-statement.yaml", wantErr: "no-statement.yaml:2: misconfigurations[0] (AWS-0107) has no statement: say why the finding is accepted"},
		{file: "blank-statement.yaml", wantErr: "blank-statement.yaml:2: misconfigurations[0] (AWS-0107) has no statement"},
		{file: "no-id.yaml", wantErr: "no-id.yaml:2: secrets[0] has no id"},
		{file: "misspelt.yaml", wantErr: "field reason not found"},
		{file: "unknown-section.yaml", wantErr: "field misconfiguration not found"},
		{file: "missing.yaml", wantErr: "an empty file accepts none"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := trivyscan.LoadIgnore(filepath.Join("testdata", tt.file))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestIgnoreForGivesEachFolderItsEntries: an entry without paths goes to
// every folder; one with paths only to the folders they are under, the
// paths made relative to the folder; none is widened to every file.
func TestIgnoreForGivesEachFolderItsEntries(t *testing.T) {
	accepted := []trivyscan.Accepted{
		{Kind: "misconfigurations", ID: "KSV-0017", Paths: []string{"rendered/longhorn/**", "rendered/cilium/cilium/templates/a.yaml"}, Statement: "upstream"},
		{Kind: "misconfigurations", ID: "AWS-0107", Paths: []string{"terraform/talos/main.tf"}, Statement: "tf"},
		{Kind: "secrets", ID: "aws-access-key-id", Statement: "everywhere"},
	}
	tests := []struct{ name, want string }{
		{"rendered", "misconfigurations:\n    - id: KSV-0017\n      paths:\n        - longhorn/**\n        - cilium/cilium/templates/a.yaml\n      statement: upstream\nsecrets:\n    - id: aws-access-key-id\n      statement: everywhere\n"},
		{"terraform", "misconfigurations:\n    - id: AWS-0107\n      paths:\n        - talos/main.tf\n      statement: tf\nsecrets:\n    - id: aws-access-key-id\n      statement: everywhere\n"},
		{"kubernetes", "secrets:\n    - id: aws-access-key-id\n      statement: everywhere\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := trivyscan.IgnoreFor(accepted, tt.name)
			require.NoError(t, err)
			require.Equal(t, tt.want, string(got))
		})
	}
}

// TestCheckPathsRefusesAPathOutsideTheFolders: a path relative to a
// folder instead of the root would accept nothing; it is refused naming
// the file, the line and the folders.
func TestCheckPathsRefusesAPathOutsideTheFolders(t *testing.T) {
	ok := []trivyscan.Accepted{{Kind: "misconfigurations", ID: "KSV-0017", Paths: []string{"rendered/longhorn/**"}, Line: 2}}
	require.NoError(t, trivyscan.CheckPaths(".trivyignore.yaml", ok, "terraform", "kubernetes", "rendered"))
	bad := []trivyscan.Accepted{{Kind: "misconfigurations", ID: "AWS-0107", Paths: []string{"talos/main.tf"}, Line: 7}}
	require.EqualError(t, trivyscan.CheckPaths(".trivyignore.yaml", bad, "terraform", "kubernetes", "rendered"),
		`.trivyignore.yaml:7: misconfigurations (AWS-0107) path "talos/main.tf" is under none of terraform/, kubernetes/, rendered/: paths are relative to the repository root`)
}
