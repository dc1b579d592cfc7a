package trivyscan_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/trivyscan"
)

// TestJoinNonEmpty: empty and blank parts are left out, the others
// trimmed and joined.
func TestJoinNonEmpty(t *testing.T) {
	tests := []struct {
		sep   string
		parts []string
		want  string
	}{
		{sep: ": ", want: ""},
		{sep: ": ", parts: []string{"summary", "detail"}, want: "summary: detail"},
		{sep: " — ", parts: []string{"", " title ", "  ", "https://example.invalid/AVD-1"}, want: "title — https://example.invalid/AVD-1"},
		{sep: ": ", parts: []string{"", " "}, want: ""},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, trivyscan.JoinNonEmpty(tt.sep, tt.parts...), "%q", tt.parts)
	}
}
