package inventory

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestProblemsKeepsTheFirstInFileOrder reports problems out of line order,
// as the checks after decoding do, and checks that the first MaxProblems by
// line are kept whatever the order they came in.
func TestProblemsKeepsTheFirstInFileOrder(t *testing.T) {
	tests := []struct {
		name  string
		lines func(n int) []int
	}{
		{"in order", func(n int) []int {
			var ls []int
			for i := range n {
				ls = append(ls, i+1)
			}
			return ls
		}},
		{"reversed", func(n int) []int {
			var ls []int
			for i := n; i > 0; i-- {
				ls = append(ls, i)
			}
			return ls
		}},
		{"interleaved", func(n int) []int {
			var ls []int
			for i := n; i > 0; i -= 2 {
				ls = append(ls, i)
			}
			for i := 1; i <= n; i += 2 {
				ls = append(ls, i)
			}
			return ls
		}},
	}
	const n = 1000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := &problems{file: "f.yaml", pos: positions{}, failed: map[string]bool{}}
			for _, l := range tt.lines(n) {
				ps.at(l, fmt.Sprintf("p%d", l), "problem on line %d", l)
			}
			var e *Error
			require.ErrorAs(t, ps.err(), &e)
			require.Len(t, e.Problems, MaxProblems)
			require.Equal(t, n-MaxProblems, e.Omitted)
			require.Equal(t, n, e.Total())
			for i, p := range e.Problems {
				require.Equal(t, Problem{File: "f.yaml", Line: i + 1, Path: fmt.Sprintf("p%d", i+1), Message: fmt.Sprintf("problem on line %d", i+1)}, p)
			}
			require.Len(t, ps.failed, n, "every problem's path still counts as failed")
		})
	}
}
