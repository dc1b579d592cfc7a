package inventory

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRepeats(t *testing.T) {
	type item struct{ name, path string }
	lower := func(i item) (string, bool) { return strings.ToLower(i.name), i.name != "" }
	tests := []struct {
		name  string
		items []item
		want  [][2]string // the repeated item's path, then the first holder's
	}{
		{"none", nil, nil},
		{"all distinct", []item{{"a", "x[0]"}, {"b", "x[1]"}}, nil},
		{"a repeat names the first holder", []item{{"a", "x[0]"}, {"b", "x[1]"}, {"A", "y[0]"}}, [][2]string{{"y[0]", "x[0]"}}},
		{"every later repeat names the first holder", []item{{"a", "x[0]"}, {"a", "x[1]"}, {"a", "x[2]"}},
			[][2]string{{"x[1]", "x[0]"}, {"x[2]", "x[0]"}}},
		{"items without a key are left out", []item{{"", "x[0]"}, {"", "x[1]"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [][2]string
			for it, first := range repeats(tt.items, lower) {
				got = append(got, [2]string{it.path, first.path})
			}
			require.Equal(t, tt.want, got)
		})
	}
}
