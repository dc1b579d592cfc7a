package lint

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
)

// Staticcheck is the staticcheck step: staticcheck (from the tool cache)
// over ./..., then over the Mage targets' files named together (they
// carry the "mage" tag, which cannot be passed for the same reason as to
// go vet; see Vet). Each problem of its -f json output is a finding with
// staticcheck's code as the rule. A finding accepted on purpose is
// silenced in the code with a //lint:ignore CODE reason comment.
func Staticcheck() Step {
	return Step{Name: "staticcheck", Tools: []string{"staticcheck"}, Run: func(ctx context.Context, env *Env) (Result, error) {
		files, err := env.files(ctx, hasExt(".go"))
		if err != nil {
			return Result{}, err
		}
		res := Result{Files: len(files)}
		if len(files) == 0 {
			res.Note = NoneStaged
			return res, nil
		}
		sets, err := MageFileSets(env.Root)
		if err != nil {
			return res, err
		}
		runs := [][]string{{"./..."}}
		if len(sets) > 0 {
			runs = append(runs, sets[0]) // every target file together
		}
		for _, args := range runs {
			o, err := env.run(ctx, ".", nil, "staticcheck", append([]string{"-f", "json"}, args...)...)
			if err != nil {
				return res, err
			}
			found := parseStaticcheck(env.Root, o.stdout)
			if o.code != 0 {
				res.Exit = o.code
				if len(found) == 0 {
					return res, silentFailure("staticcheck "+strings.Join(args, " "), o)
				}
			}
			res.Findings = append(res.Findings, found...)
		}
		return res, nil
	}}
}

// parseStaticcheck reads staticcheck -f json's output, one JSON object
// a line.
func parseStaticcheck(root, out string) []Finding {
	var found []Finding
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var p struct {
			Code     string `json:"code"`
			Severity string `json:"severity"`
			Location struct {
				File string `json:"file"`
				Line int    `json:"line"`
			} `json:"location"`
			Message string `json:"message"`
		}
		if json.Unmarshal(sc.Bytes(), &p) != nil || p.Code == "" {
			continue
		}
		found = append(found, Finding{Tool: "staticcheck", File: relTo(root, p.Location.File), Line: p.Location.Line, Rule: p.Code, Message: p.Message})
	}
	return found
}
