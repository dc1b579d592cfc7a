package magerun

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/magefile/mage/parse"
)

// UsageError is a command line that cannot run as written. Nothing has run
// when it is returned.
type UsageError struct {
	// Msg says what is wrong and what to type instead.
	Msg string
}

// Error returns the message.
func (e *UsageError) Error() string { return e.Msg }

func usageErrorf(format string, args ...any) *UsageError {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// unknown is the error for a word that names no target.
func (t *Targets) unknown(word string) error {
	msg := fmt.Sprintf("%q is not a target", word)
	if s := t.suggest(word); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return usageErrorf("%s (%s -l lists them)", msg, Command)
}

// suggest is the target a mistyped word most likely meant: one whose name
// or whose part after the namespace is the word or starts with it.
func (t *Targets) suggest(word string) string {
	word = strings.ToLower(word)
	for _, fn := range t.funcs {
		n := t.shown(fn)
		_, short, _ := strings.Cut(n, ":")
		if short == word || strings.HasPrefix(n, word) || (short != "" && strings.HasPrefix(short, word)) {
			return n
		}
	}
	return ""
}

// Check reads args (the words after the runner's own flags) the way the
// built binary will, target by target, and refuses anything it would stop
// at halfway: an unknown target, a missing or badly typed argument, an
// unknown flag, or a word after a target that is neither its argument nor
// another target. Mage runs the targets in turn and only meets a bad word
// when it gets there, after the earlier targets have done their work.
func (t *Targets) Check(args []string) error {
	_, err := t.read(args)
	return err
}

// Canonical is args with each target named as the built binary knows it
// (an alias such as talos:etcd-snapshot becomes talos:etcdsnapshot), so a
// target's build never needs the file that declares the aliases; it fails
// as Check does.
func (t *Targets) Canonical(args []string) ([]string, error) {
	out := slices.Clone(args)
	_, err := t.scan(args, func(x int, fn *parse.Function) { out[x] = name(fn) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// read is Check, returning the targets the line runs.
func (t *Targets) read(args []string) ([]*parse.Function, error) {
	return t.scan(args, nil)
}

// scan reads the command line as read does, calling at (when set) with
// the index of each target word and its target.
func (t *Targets) scan(args []string, at func(x int, fn *parse.Function)) ([]*parse.Function, error) {
	var fns []*parse.Function
	for x := 0; x < len(args); {
		word := args[x]
		x++
		fn := t.lookup(word)
		switch {
		case fn == nil && x == 1:
			return nil, t.unknown(word)
		case fn == nil:
			prev := fns[len(fns)-1]
			return nil, usageErrorf("%q after %s is neither one of its arguments nor a target; its usage is: %s (%s -h %s explains it)",
				word, t.shown(prev), t.usage(prev), Command, t.shown(prev))
		}
		fns = append(fns, fn)
		if at != nil {
			at(x-1, fn)
		}
		required := fn.RequiredArgs()
		if x+len(required) > len(args) {
			return nil, usageErrorf("%s needs %d argument(s), got %d; its usage is: %s",
				t.shown(fn), len(required), len(args)-x, t.usage(fn))
		}
		for _, a := range required {
			v := args[x]
			x++
			if strings.HasPrefix(v, "-") && flagNamed(fn, v) != nil {
				return nil, usageErrorf("%s takes <%s> before its flags, got %q; its usage is: %s", t.shown(fn), a.Name, v, t.usage(fn))
			}
			if err := checkValue(a.Type, v); err != nil {
				return nil, usageErrorf("%s: argument <%s> %q: %v", t.shown(fn), a.Name, v, err)
			}
		}
		for x < len(args) && strings.HasPrefix(args[x], "-") {
			if err := t.checkFlag(fn, args[x]); err != nil {
				return nil, err
			}
			x++
		}
	}
	return fns, nil
}

// flagNamed is fn's optional argument that the word -name[=value] names.
func flagNamed(fn *parse.Function, word string) *parse.Arg {
	n, _, _ := strings.Cut(strings.TrimPrefix(word, "-"), "=")
	for _, a := range fn.OptionalArgs() {
		if strings.EqualFold(a.Name, n) {
			return &a
		}
	}
	return nil
}

// checkFlag accepts what the built binary accepts: -name=value for every
// flag, and a bare -name for a boolean one.
func (t *Targets) checkFlag(fn *parse.Function, word string) error {
	a := flagNamed(fn, word)
	if a == nil {
		var names []string
		for _, o := range fn.OptionalArgs() {
			names = append(names, "-"+strings.ToLower(o.Name))
		}
		has := "it takes no flags"
		if len(names) > 0 {
			has = "its flags are " + strings.Join(names, ", ")
		}
		return usageErrorf("%s has no flag %q; %s (%s -h %s explains them)", t.shown(fn), word, has, Command, t.shown(fn))
	}
	_, v, hasValue := strings.Cut(word, "=")
	if !hasValue {
		if a.Type == "bool" {
			return nil
		}
		return usageErrorf("%s: flag -%s needs a value: -%s=<%s>", t.shown(fn), strings.ToLower(a.Name), strings.ToLower(a.Name), a.Type)
	}
	if err := checkValue(a.Type, v); err != nil {
		return usageErrorf("%s: flag -%s=%q: %v", t.shown(fn), strings.ToLower(a.Name), v, err)
	}
	return nil
}

// checkValue converts v the way the built binary will.
func checkValue(typ, v string) error {
	var err error
	switch typ {
	case "int":
		_, err = strconv.Atoi(v)
	case "float64":
		_, err = strconv.ParseFloat(v, 64)
	case "bool":
		_, err = strconv.ParseBool(v)
	case "time.Duration":
		_, err = time.ParseDuration(v)
	}
	if err != nil {
		return fmt.Errorf("not a valid %s", typ)
	}
	return nil
}
