package inventory

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"golang.org/x/text/unicode/runenames"
)

// nonASCII describes the first non-ASCII character of s and its 1-based
// position among the characters of s, e.g. "the non-ASCII character 'а'
// (U+0430 CYRILLIC SMALL LETTER A) at position 2", or returns "" when s is
// ASCII. A look-alike letter makes a name differ from the one it resembles
// while both print the same.
func nonASCII(s string) string {
	pos := 0
	for _, r := range s {
		pos++
		if r < utf8.RuneSelf {
			continue
		}
		name := runenames.Name(r)
		if name != "" {
			name = " " + name
		}
		return fmt.Sprintf("the non-ASCII character %s (U+%04X%s) at position %d", strconv.QuoteRune(r), r, name, pos)
	}
	return ""
}

// nonASCIINote is "; it has " and nonASCII(s), to end a message about the
// value s, or "" when s is ASCII.
func nonASCIINote(s string) string {
	if d := nonASCII(s); d != "" {
		return "; it has " + d
	}
	return ""
}
