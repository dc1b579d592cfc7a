package schema

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// Messages PVE's JSONSchema code uses, each ending in a newline as PVE sends them.
const (
	msgNotDefined = "property is not defined in schema and the schema does not allow additional properties\n"
	msgMissing    = "property is missing and it is not optional\n"
)

// Errors maps parameter names to PVE's verification messages.
type Errors map[string]string

// Validate checks request parameters (path variables, query and body merged;
// values as decoded from a form, a query or JSON) against the method's schema.
// It returns the parameters as strings, the way a handler sees them (JSON
// booleans become "1"/"0"), and the errors keyed by parameter name.
func (m *Method) Validate(params map[string]any) (map[string]string, Errors) {
	return validateObject("", &m.Parameters, params)
}

func validateObject(prefix string, obj *Object, params map[string]any) (map[string]string, Errors) {
	out := map[string]string{}
	errs := Errors{}
	for name, v := range params {
		path := prefix + name
		p, ok := obj.property(name)
		if ok && p.Alias != "" {
			p, ok = obj.property(p.Alias)
		}
		if !ok {
			if !obj.AdditionalProperties {
				errs[path] = msgNotDefined
			}
			continue
		}
		s, ok := checkProperty(path, p, v, errs)
		if ok {
			out[name] = s
		}
	}
	for name, p := range obj.Properties {
		if bool(p.Optional) || p.Alias != "" || strings.HasSuffix(name, "[n]") {
			continue
		}
		if _, ok := params[name]; !ok {
			errs[prefix+name] = msgMissing
		}
	}
	for name := range params {
		p, ok := obj.property(name)
		if !ok || p.Requires == "" {
			continue
		}
		if _, ok := params[p.Requires]; !ok {
			errs[prefix+p.Requires] = fmt.Sprintf("missing property required by '%s'\n", prefix+name)
		}
	}
	return out, errs
}

// checkProperty validates one value and returns it as a string.
func checkProperty(path string, p *Property, v any, errs Errors) (string, bool) {
	if p.Format != nil && p.Format.Name == "pve-vmid" {
		// PVE answers a malformed VM ID, numeric or not, with the
		// format's message rather than a type error.
		if s, ok := scalarString(v); !ok || !vmidRe.MatchString(s) {
			errs[path] = "invalid format - value does not look like a valid VM ID\n"
			return "", false
		}
	}
	s, ok := checkType(p.Type, v)
	if !ok {
		errs[path] = fmt.Sprintf("type check ('%s') failed - got '%s'\n", p.Type, display(v))
		return "", false
	}
	if p.Format != nil {
		if p.Format.Keys != nil {
			values, ok := checkPropertyString(path, p.Format, s, errs)
			if !ok {
				return "", false
			}
			if err := validateNamedFormat(p.Format.Name, values); err != nil {
				errs[path] = "invalid format - " + err.Error() + "\n"
				return "", false
			}
		} else if err := checkFormat(p.Format.Name, s); err != nil {
			errs[path] = "invalid format - " + err.Error() + "\n"
			return "", false
		}
	}
	if p.pattern != nil && !p.pattern.MatchString(s) {
		errs[path] = "value does not match the regex pattern\n"
		return "", false
	}
	if p.MaxLength != nil && len(s) > int(*p.MaxLength) {
		errs[path] = fmt.Sprintf("value may only be %d characters long\n", int(*p.MaxLength))
		return "", false
	}
	if p.Type == "integer" || p.Type == "number" {
		f, _ := strconv.ParseFloat(s, 64)
		if p.Minimum != nil && f < float64(*p.Minimum) {
			errs[path] = fmt.Sprintf("value must have a minimum value of %s\n", formatNumber(float64(*p.Minimum)))
			return "", false
		}
		if p.Maximum != nil && f > float64(*p.Maximum) {
			errs[path] = fmt.Sprintf("value must have a maximum value of %s\n", formatNumber(float64(*p.Maximum)))
			return "", false
		}
	}
	if len(p.Enum) > 0 && !slices.Contains(p.Enum, s) {
		errs[path] = fmt.Sprintf("value '%s' does not have a value in the enumeration '%s'\n", s, strings.Join(p.Enum, ", "))
		return "", false
	}
	return s, true
}

var (
	vmidRe    = regexp.MustCompile(`^[1-9][0-9]{2,8}$`)
	integerRe = regexp.MustCompile(`^[+-]?\d+$`)
	numberRe  = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)
)

// checkType checks a value against a schema type and returns it as the
// string a handler sees.
func checkType(typ string, v any) (string, bool) {
	switch typ {
	case "boolean":
		switch x := v.(type) {
		case bool:
			if x {
				return "1", true
			}
			return "0", true
		case float64:
			if x == 0 || x == 1 {
				return strconv.Itoa(int(x)), true
			}
		case string:
			if x == "0" || x == "1" {
				return x, true
			}
		}
		return "", false
	case "integer":
		s, ok := scalarString(v)
		if !ok || !integerRe.MatchString(s) {
			return "", false
		}
		return strings.TrimPrefix(s, "+"), true
	case "number":
		s, ok := scalarString(v)
		return s, ok && numberRe.MatchString(s)
	case "array":
		b, err := json.Marshal(v)
		return string(b), err == nil
	default: // string, or untyped
		if _, isBool := v.(bool); isBool {
			return "", false
		}
		return scalarString(v)
	}
}

// scalarString renders a string or a JSON number as a string.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10), true
		}
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case json.Number:
		return x.String(), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	return "", false
}

func display(v any) string {
	if s, ok := scalarString(v); ok {
		return s
	}
	switch v.(type) {
	case bool:
		return fmt.Sprint(v)
	case []any:
		return "ARRAY"
	case map[string]any:
		return "HASH"
	}
	return fmt.Sprint(v)
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// checkPropertyString validates a property string against its key schema.
// A key error is recorded on the parameter as PVE words it: parse_property_string
// raises "format error" with the key errors attached, and check_prop adds the
// stringified exception (pve-common Exception.pm stringify: one
// "param.key: message" line per key error) after "invalid format - ". It
// returns the parsed values (booleans as 1/0) for the format's validator.
func checkPropertyString(path string, f *Format, s string, errs Errors) (map[string]string, bool) {
	ps, err := pve.ParsePropertyString(s, f.DefaultKey())
	if err != nil {
		errs[path] = "invalid format - " + err.Error() + "\n"
		return nil, false
	}
	parsed, err := resolveAliases(f, ps)
	if err != nil {
		errs[path] = "invalid format - " + err.Error() + "\n"
		return nil, false
	}
	values := map[string]any{}
	for k, v := range parsed {
		if p, ok := f.Keys[k]; ok && p.Type == "boolean" {
			v = parseBoolean(v)
			parsed[k] = v
		}
		values[k] = v
	}
	_, sub := validateObject(path+".", &Object{Properties: f.Keys}, values)
	if len(sub) > 0 {
		msg := "invalid format - format error\n"
		for _, k := range slices.Sorted(maps.Keys(sub)) {
			msg += k + ": " + perlMessage(sub[k]) + "\n"
		}
		errs[path] = msg
		return nil, false
	}
	return parsed, true
}

// resolveAliases stores the value of an aliased key under its target, as
// pve-common JSONSchema.pm parse_property_string does: "virtio=<MAC>" of a
// NIC (alias macaddr, keyAlias model) becomes model=virtio and
// macaddr=<MAC>, a drive's "volume=" becomes its file. It refuses a key
// alias or an alias target given twice with PVE's words. PVE resolves keys
// in the order written; the keys of a parsed property string keep no order,
// so the aliased keys are resolved after the others and a conflict is
// reported from the alias's side.
func resolveAliases(f *Format, ps *pve.PropertyString) (map[string]string, error) {
	res := map[string]string{}
	var aliased []string
	for _, k := range ps.Keys() {
		if p, ok := f.Keys[k]; ok && p.Alias != "" {
			aliased = append(aliased, k)
			continue
		}
		res[k] = ps.Value(k)
	}
	for _, k := range aliased {
		p := f.Keys[k]
		if p.KeyAlias != "" {
			if _, dup := res[p.KeyAlias]; dup {
				return nil, fmt.Errorf("key alias '%s' is already defined", p.KeyAlias)
			}
			res[p.KeyAlias] = k
		}
		if _, dup := res[p.Alias]; dup {
			return nil, fmt.Errorf("key '%s' is already defined (via alias)", p.Alias)
		}
		res[p.Alias] = ps.Value(k)
	}
	return res, nil
}

// perlMessage returns a validation message as pve-common's add_error holds
// it: a verifier's die message ("invalid format - ...") keeps its newline,
// the messages JSONSchema.pm writes itself have none.
func perlMessage(msg string) string {
	if strings.HasPrefix(msg, "invalid format - ") {
		return msg
	}
	return strings.TrimSuffix(msg, "\n")
}

// parseBoolean maps the spellings property strings accept for booleans to 1/0.
func parseBoolean(v string) string {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return "1"
	case "0", "false", "no", "off":
		return "0"
	}
	return v
}

// compilePattern anchors a schema pattern as PVE does and translates Perl's
// "(?^:" groups; it returns nil for a pattern RE2 cannot express.
func compilePattern(p string) *regexp.Regexp {
	translated := strings.NewReplacer(`(?^:`, `(?:`, `(?^i:`, `(?i:`, `\@`, `@`).Replace(p)
	re, err := regexp.Compile(`^(?:` + translated + `)$`)
	if err != nil {
		return nil
	}
	return re
}
