package lint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/format"
	"go/scanner"
	"os"
	"path/filepath"
)

// Gofmt is the gofmt step: every Go file of the repository (RepoFiles)
// formatted as gofmt formats it, checked in-process. With Env.Fix it
// rewrites the files that differ. A file that does not parse is a finding
// at the syntax error.
func Gofmt() Step {
	return Step{Name: "gofmt", Run: func(ctx context.Context, env *Env) (Result, error) {
		files, res, done, err := env.start(ctx, hasExt(".go"), "no Go file")
		if done {
			return res, err
		}
		for _, f := range files {
			path := filepath.Join(env.Root, f)
			src, err := os.ReadFile(path)
			if err != nil {
				return res, fmt.Errorf("gofmt: %w", err)
			}
			formatted, err := format.Source(src)
			var syntax scanner.ErrorList
			switch {
			case errors.As(err, &syntax) && len(syntax) > 0:
				res.Findings = append(res.Findings, Finding{Tool: "gofmt", File: f, Line: syntax[0].Pos.Line, Rule: "syntax", Message: syntax[0].Msg})
				continue
			case err != nil:
				res.Findings = append(res.Findings, Finding{Tool: "gofmt", File: f, Message: err.Error()})
				continue
			case bytes.Equal(src, formatted):
				continue
			}
			if env.Fix {
				fi, err := os.Stat(path)
				if err != nil {
					return res, fmt.Errorf("gofmt: %w", err)
				}
				if err := os.WriteFile(path, formatted, fi.Mode().Perm()); err != nil {
					return res, fmt.Errorf("gofmt -w: %w", err)
				}
				res.Fixed = append(res.Fixed, f)
				continue
			}
			res.Findings = append(res.Findings, Finding{Tool: "gofmt", File: f, Line: firstDifference(src, formatted),
				Message: "not formatted as gofmt formats it (-fix rewrites it)"})
		}
		return res, nil
	}}
}

// firstDifference returns the first line (from 1) where a and b differ.
func firstDifference(a, b []byte) int {
	line := 1
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return line
		}
		if a[i] == '\n' {
			line++
		}
	}
	return line
}
