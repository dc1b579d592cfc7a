package inventory

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the problems yaml.v3's parser (rather than its scanner)
// reports. It numbers their lines from 0 where it numbers the scanner's from
// 1, so they come out one line early.
var parserProblems = []string{
	"did not find expected <stream-start>",
	"did not find expected <document start>",
	"did not find expected node content",
	"did not find expected '-' indicator",
	"did not find expected key",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found undefined tag handle",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found duplicate %TAG directive",
}

// maxQuoteCandidates bounds the lines syntaxProblem tries to repair when it
// looks for an unclosed quote, so a broken file costs a few parses at most.
const maxQuoteCandidates = 5

// syntaxProblem turns a YAML parse error for data into the line and message
// to report. yaml.v3 reports a tab in the indentation at the start of the
// value before it, and an unclosed quote wherever the parser gave up, often
// lines later; both are looked for in data and reported where they are.
func syntaxProblem(data []byte, err error) (line int, msg string) {
	line, msg = 0, strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if slices.Contains(parserProblems, msg) {
		line++
	}
	switch {
	case msg == "control characters are not allowed":
		if l, col, r, ok := controlCharacter(data); ok {
			return l, fmt.Sprintf("control character %U at column %d; remove it (YAML allows no control characters but tabs and line breaks)", r, col)
		}
	case strings.Contains(msg, "tab character") || msg == "found character that cannot start any token":
		if l, col, ok := tabIndent(data, line); ok {
			return l, fmt.Sprintf("a tab in the indentation at column %d; indent with spaces", col)
		}
	}
	if l, col, q, ok := unclosedQuote(data); ok {
		return l, fmt.Sprintf("the string that starts with %c at column %d is not closed on this line; end it with %c", q, col, q)
	}
	return line, msg
}

// invalidUTF8 reports the first byte of data that is not part of a UTF-8
// sequence, and its line and column.
func invalidUTF8(data []byte) (line, col, offset int, ok bool) {
	if utf8.Valid(data) {
		return 0, 0, 0, false
	}
	for off := 0; off < len(data); {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size == 1 {
			line, col = position(data, off)
			return line, col, off, true
		}
		off += size
	}
	return 0, 0, 0, false
}

// controlCharacter finds the first character of valid UTF-8 data that YAML
// does not allow in a document.
func controlCharacter(data []byte) (line, col int, r rune, ok bool) {
	for off, c := range string(data) {
		if c == '\t' || c == '\n' || c == '\r' || c == 0x85 {
			continue
		}
		if c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0xfffe || c == 0xffff || (c == 0xfeff && off > 0) {
			line, col = position(data, off)
			return line, col, c, true
		}
	}
	return 0, 0, 0, false
}

// tabIndent finds the first line from line from on whose indentation holds a
// tab, and the tab's column.
func tabIndent(data []byte, from int) (line, col int, ok bool) {
	n := 0
	for l := range bytes.Lines(data) {
		n++
		if n < from {
			continue
		}
		for i, c := range l {
			if c == '\t' {
				return n, i + 1, true
			}
			if c != ' ' {
				break
			}
		}
	}
	return 0, 0, false
}

// unclosedQuote finds a quoted string that is opened on a line and not
// closed on it, and that, once closed there, leaves a document that parses.
// It reports the line, the quote's column and the quote character.
func unclosedQuote(data []byte) (line, col int, quote byte, ok bool) {
	tried, n, start := 0, 0, 0
	for l := range bytes.Lines(data) {
		n++
		lineStart := start
		start += len(l)
		text := bytes.TrimRight(l, "\r\n")
		i := openQuote(text)
		if i < 0 {
			continue
		}
		if tried++; tried > maxQuoteCandidates {
			break
		}
		q := text[i]
		// Close it at the end of the line, or, in a flow collection,
		// before the first ',', ']' or '}' after it.
		ends := []int{len(text)}
		if k := bytes.IndexAny(text[i+1:], ",]}"); k >= 0 {
			ends = append(ends, i+1+k)
		}
		for _, end := range ends {
			at := lineStart + end
			fixed := slices.Concat(data[:at], []byte{q}, data[at:])
			if _, err := parseYAML(fixed); err == nil {
				return n, utf8.RuneCount(text[:i]) + 1, q, true
			}
		}
	}
	return 0, 0, 0, false
}

// openQuote returns the index of a quote that starts a quoted scalar on line
// and is not closed on it, or -1. It knows enough YAML to tell a quoted
// scalar from an apostrophe inside a plain one.
func openQuote(line []byte) int {
	scalarStart := true // a scalar may start at the next non-blank
	depth := 0          // flow collections opened on this line
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == ' ' || c == '\t' {
			continue
		}
		if c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return -1
		}
		if scalarStart {
			switch c {
			case '"', '\'':
				end := closingQuote(line, i)
				if end < 0 {
					return i
				}
				i, scalarStart = end, false
				continue
			case '[', '{':
				depth++
				continue
			case '-', '?':
				if i+1 == len(line) || line[i+1] == ' ' {
					continue
				}
			case '|', '>':
				return -1 // a block scalar's content follows
			}
			scalarStart = false
		}
		switch {
		case c == ':' && (i+1 == len(line) || line[i+1] == ' ' || (depth > 0 && strings.IndexByte(",]}", line[i+1]) >= 0)):
			scalarStart = true
		case depth > 0 && c == ',':
			scalarStart = true
		case depth > 0 && (c == ']' || c == '}'):
			depth--
		}
	}
	return -1
}

// closingQuote returns the index of the quote that closes the quoted scalar
// opened at line[open], or -1 when the line ends first.
func closingQuote(line []byte, open int) int {
	q := line[open]
	for j := open + 1; j < len(line); j++ {
		switch {
		case q == '"' && line[j] == '\\':
			j++
		case line[j] == q && q == '\'' && j+1 < len(line) && line[j+1] == '\'':
			j++
		case line[j] == q:
			return j
		}
	}
	return -1
}

// position returns the 1-based line and character column of byte offset off.
func position(data []byte, off int) (line, col int) {
	lineStart := bytes.LastIndexByte(data[:off], '\n') + 1
	return bytes.Count(data[:off], []byte("\n")) + 1, utf8.RuneCount(data[lineStart:off]) + 1
}
