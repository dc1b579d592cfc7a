package inventory

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOpenQuote(t *testing.T) {
	tests := []struct {
		line string
		want int
	}{
		{`description: it's a plain scalar`, -1},
		{`key"s: value`, -1},
		{`a: "closed"`, -1},
		{`a: "open`, 3},
		{`"open key: v`, 0},
		{`a: 'it''s closed'`, -1},
		{`a: 'it''s open`, 3},
		{`a: "escaped \" quote`, 3},
		{`a: "escaped \\" # closed, then a comment`, -1},
		{`# a "comment`, -1},
		{`a: b # "comment`, -1},
		{`- "item`, 2},
		{`  - - 'nested item`, 6},
		{`{a: 'x, b: y}`, 4},
		{`[1, "two, 3]`, 4},
		{`a: [x, y] "z`, -1},
		{`a: |`, -1},
		{`a: "x": b`, -1},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			require.Equal(t, tt.want, openQuote([]byte(tt.line)))
		})
	}
}

func TestSyntaxProblem(t *testing.T) {
	tests := []struct {
		name, data string
		line       int
		msg        string
	}{
		{"unclosed quote", "a:\n  b: 1\n  c: \"x\nd: 3\ne: \"4\"\n", 3,
			`the string that starts with " at column 6 is not closed on this line; end it with "`},
		{"unclosed quote on the first line", "a: \"x\nb: 1\n", 1,
			`the string that starts with " at column 4 is not closed on this line; end it with "`},
		{"a multi-line string is not blamed for another problem", "a: \"one\n  two\"\nb: [1, 2\n", 3,
			`did not find expected ',' or ']'`},
		{"tab after a multi-line value", "a:\n  b: one two\n    three\n\tc: 2\n", 4,
			"a tab in the indentation at column 1; indent with spaces"},
		{"tab after spaces", "a:\n  b:\n    - x\n  \t- y\n", 4,
			"a tab in the indentation at column 3; indent with spaces"},
		{"a tab inside a block scalar is content", "a: |\n  x\n  \ty\nb: [1\n", 4,
			`did not find expected ',' or ']'`},
		{"control character", "a: 1\nb: \"x\x7fy\"\n", 2,
			"control character U+007F at column 6; remove it (YAML allows no control characters but tabs and line breaks)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseYAML([]byte(tt.data))
			require.Error(t, err)
			line, msg := syntaxProblem([]byte(tt.data), err)
			require.Equal(t, tt.line, line)
			require.Equal(t, tt.msg, msg)
		})
	}
}

func TestInvalidUTF8(t *testing.T) {
	line, col, off, ok := invalidUTF8([]byte("a: 1\nbé: x\xffy\n"))
	require.True(t, ok)
	require.Equal(t, []int{2, 6, 11}, []int{line, col, off})
	_, _, _, ok = invalidUTF8([]byte("a: é\n"))
	require.False(t, ok)
}
