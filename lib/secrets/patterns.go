package secrets

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
)

// pattern is one secret shape, matched line by line.
type pattern struct {
	rule Rule
	what string
	// hints are substrings one of which every match contains: a cheap
	// test before the regular expression runs. fold compares them with
	// the lower-cased line.
	hints []string
	fold  bool
	re    *regexp.Regexp
	// ok, when set, rejects a match (placeholders); m holds the submatches.
	ok func(lines []string, i int, m []string) bool
}

// mayMatch reports whether line (lower: lower-cased) contains one of the
// pattern's hints.
func (p pattern) mayMatch(line, lower string) bool {
	if p.fold {
		line = lower
	}
	for _, h := range p.hints {
		if strings.Contains(line, h) {
			return true
		}
	}
	return false
}

const uuidRE = `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`

// patterns are the secret shapes Check recognises anywhere.
var patterns = []pattern{
	{rule: RulePrivateKey, what: "a PEM private key", hints: []string{"PRIVATE KEY"},
		re: regexp.MustCompile(`-----BEGIN ((?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----`), ok: pemBody},
	{rule: RulePrivateKey, what: "an age secret key", hints: []string{"AGE-SECRET-KEY-1"},
		re: regexp.MustCompile(`AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}`)},
	{rule: RulePrivateKey, what: "a PuTTY private key", hints: []string{"PuTTY-User-Key-File-"},
		re: regexp.MustCompile(`^PuTTY-User-Key-File-[0-9]+: `)},
	{rule: RulePrivateKey, what: "a base64-encoded PEM private key (kubeconfig, talosconfig or Talos secrets)", hints: []string{"LS0tLS1CRUdJTi"},
		re: regexp.MustCompile(`LS0tLS1CRUdJTi[A-Za-z0-9+/]{20,}={0,2}`), ok: encodedPrivateKey},
	{rule: RuleToken, what: "a Proxmox API token secret", hints: []string{"!"},
		re: regexp.MustCompile(`[\w.-]+@[\w.-]+![\w.-]+[=:]\s*` + uuidRE)},
	{rule: RuleToken, what: "a UUID-shaped secret (the form of a PVE token secret)", hints: []string{"secret", "token", "passw", "api"}, fold: true,
		re: regexp.MustCompile(`(?i)(secret|token|password|passwd|api_?key)[\w.-]*["']?\s*[:=]\s*["']?` + uuidRE)},
	{rule: RuleToken, what: "a bearer token", hints: []string{"Bearer"},
		re: regexp.MustCompile(`\bBearer\s+[A-Za-z0-9\-._~+/]{20,}=*`)},
	{rule: RuleToken, what: "a JSON web token", hints: []string{"eyJ"},
		re: regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`)},
	{rule: RuleToken, what: "a GitHub token", hints: []string{"gh", "github_pat_"},
		re: regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,})\b`)},
	{rule: RuleToken, what: "an AWS access key ID", hints: []string{"AKIA", "ASIA"},
		re: regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{rule: RuleToken, what: "a Slack token", hints: []string{"xox"},
		re: regexp.MustCompile(`\bxox[abpors]-[A-Za-z0-9-]{10,}`)},
	{rule: RuleToken, what: "a Kubernetes bootstrap token", hints: []string{"token"}, fold: true,
		re: regexp.MustCompile(`(?i)token["']?\s*[:=]\s*["']?[a-z0-9]{6}\.[a-z0-9]{16}\b`)},
	{rule: RuleToken, what: "a password in a URL", hints: []string{"://"},
		re: regexp.MustCompile(`\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@"'<>]+:([^\s/@"'<>]+)@[\w.-]`), ok: realPassword},
}

// pemBody accepts a PEM marker only when key material follows it (on the
// same line after an escaped newline, or on the next lines), so code and
// docs that name the marker are not flagged.
func pemBody(lines []string, i int, _ []string) bool {
	line := lines[i]
	if j := strings.Index(line, "-----\\n"); j >= 0 {
		rest := line[j+len("-----\\n"):]
		if k := strings.IndexAny(rest, `\"'`); k >= 0 {
			rest = rest[:k]
		}
		if pemLine.MatchString(rest) {
			return true
		}
	}
	for _, next := range lines[i+1 : min(len(lines), i+6)] {
		next = strings.TrimSpace(next)
		if next == "" || strings.Contains(next, ": ") {
			continue // headers of encrypted PEM, PGP armour
		}
		return pemLine.MatchString(next)
	}
	return false
}

// pemLine matches a line of base64 key material.
var pemLine = regexp.MustCompile(`^[A-Za-z0-9+/=]{16,}$`)

// encodedPrivateKey decodes a base64 PEM block and accepts it only when it
// is a private key (certificates are public).
func encodedPrivateKey(_ []string, _ int, m []string) bool {
	enc := strings.TrimRight(m[0], "=")
	dec, err := base64.StdEncoding.DecodeString(enc[:len(enc)/4*4])
	return err == nil && bytes.Contains(dec, []byte("PRIVATE KEY"))
}

// realPassword rejects placeholders in URLs such as ${PASS} or <password>.
func realPassword(_ []string, _ int, m []string) bool {
	p := m[1]
	switch {
	case strings.HasPrefix(p, "$"), strings.HasPrefix(p, "{"), strings.HasPrefix(p, "%"),
		strings.Trim(p, "*x.") == "", strings.EqualFold(p, "password"), strings.EqualFold(p, "pass"):
		return false
	}
	return true
}

// patterns checks every line against the secret shapes.
func (s *scan) patterns(lines []string) {
	for i, line := range lines {
		lower := strings.ToLower(line)
		for _, p := range patterns {
			if !p.mayMatch(line, lower) {
				continue
			}
			m := p.re.FindStringSubmatch(line)
			if m == nil || (p.ok != nil && !p.ok(lines, i, m)) {
				continue
			}
			s.add(i+1, p.rule, "%s (%s); keep it in an encrypted file under secrets/ or in the environment, and revoke it if it was ever pushed", p.what, redact(m[0]))
		}
	}
}

// redact shows only the shape of a matched secret: a few leading
// characters and its length.
func redact(s string) string {
	keep := min(len(s)/5, 6)
	return fmt.Sprintf("%s… %d chars", s[:keep], len(s))
}
