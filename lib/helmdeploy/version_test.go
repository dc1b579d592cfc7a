package helmdeploy

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSameVersion(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		same bool
	}{
		{"4.12.1", "v4.12.1", true}, // csi-driver-nfs: the inventory pins v4.12.1, an index may say 4.12.1
		{"v4.12.1", "v4.12.1", true},
		{"4.12.1", "4.12.2", false},
		{"1.0.0+a", "1.0.0+b", false},
		{"latest", "latest", true},
		{"latest", "1.0.0", false},
	} {
		require.Equal(t, tt.same, sameVersion(tt.a, tt.b), "%s vs %s", tt.a, tt.b)
	}
}
