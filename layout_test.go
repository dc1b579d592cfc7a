package infra_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
)

// maxTracked is the largest file git may track (2 MiB): anything bigger is a
// build output, a download or a disk image committed by mistake.
const maxTracked = 2 << 20

// binaryAllowed lists the tracked files allowed to be binary (or over
// maxTracked), each with the reason it must stay. Every entry must be a
// tracked file, so the list cannot quietly grow stale.
var binaryAllowed = map[string]string{
	"lib/proxmox/pvesim/internal/schema/pve-apidoc.json.gz": "the official PVE API schema the simulator's subset.json is generated from; TestSubsetIsFresh reads it",
}

// headSize is how much of a file binaryKind looks at: git's own heuristic
// reads as much to tell binary from text.
const headSize = 8000

// binaryKind names the kind of binary that head, the first bytes of a file,
// starts: an executable or object format by its magic bytes (ELF, Mach-O
// 32/64-bit in either byte order and fat, PE, ar archives such as Go's .a,
// WebAssembly), else "binary data" when it holds a NUL byte. It returns ""
// for text.
func binaryKind(head []byte) string {
	head = head[:min(len(head), headSize)]
	var magic uint32
	if len(head) >= 4 {
		magic = binary.BigEndian.Uint32(head)
	}
	switch {
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return "ELF executable or object"
	case magic == 0xfeedface || magic == 0xcefaedfe:
		return "Mach-O 32-bit executable or object"
	case magic == 0xfeedfacf || magic == 0xcffaedfe:
		return "Mach-O 64-bit executable or object"
	case (magic == 0xcafebabe || magic == 0xcafebabf) && len(head) >= 8 && fatArchCount(head) > 0:
		return "Mach-O fat (universal) binary"
	case isPE(head):
		return "PE executable (Windows)"
	case bytes.HasPrefix(head, []byte("!<arch>\n")):
		return "ar archive (a Go .a or a static library)"
	case bytes.HasPrefix(head, []byte("\x00asm")):
		return "WebAssembly module"
	case bytes.IndexByte(head, 0) >= 0:
		return "binary data"
	}
	return ""
}

// fatArchCount returns the architecture count of a Mach-O fat header, or 0
// when the count is not one a fat binary has: 0xcafebabe also opens Java
// class files, whose next word (the class file version, 45 and up) is far
// above the few architectures a universal binary holds.
func fatArchCount(head []byte) uint32 {
	n := binary.BigEndian.Uint32(head[4:])
	if n == 0 || n >= 45 {
		return 0
	}
	return n
}

// isPE reports a PE image: the DOS "MZ" stub whose e_lfanew field (at 0x3c)
// points at the "PE\0\0" signature.
func isPE(head []byte) bool {
	if len(head) < 0x40 || !bytes.HasPrefix(head, []byte("MZ")) {
		return false
	}
	off := int64(binary.LittleEndian.Uint32(head[0x3c:]))
	return off+4 <= int64(len(head)) && bytes.Equal(head[off:off+4], []byte("PE\x00\x00"))
}

// trackedFileProblems lists the files git tracks in the work tree at dir
// that are over maxTracked or binary, outside allowed, and the entries of
// allowed that name no tracked file. Files deleted from the work tree but
// still in the index are not read.
func trackedFileProblems(t *testing.T, dir string, allowed map[string]string) []string {
	t.Helper()
	git := testtool.Require(t, "git")
	out, err := exec.Command(git, "-C", dir, "ls-files", "-z").Output()
	require.NoError(t, err, "git ls-files in %s", dir)
	files := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	var problems []string
	for _, rel := range files {
		if rel == "" {
			continue
		}
		if _, ok := allowed[rel]; ok {
			continue
		}
		path := filepath.Join(dir, filepath.FromSlash(rel))
		info, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		require.NoError(t, err)
		if !info.Mode().IsRegular() {
			continue // symbolic links and submodules
		}
		if info.Size() > maxTracked {
			problems = append(problems, fmt.Sprintf("%s: %d bytes, over the %d-byte limit", rel, info.Size(), maxTracked))
		}
		f, err := os.Open(path)
		require.NoError(t, err)
		head, err := io.ReadAll(io.LimitReader(f, headSize))
		f.Close()
		require.NoError(t, err, "read %s", rel)
		if kind := binaryKind(head); kind != "" {
			problems = append(problems, rel+": "+kind)
		}
	}
	for rel := range allowed {
		if !slices.Contains(files, rel) {
			problems = append(problems, rel+": allowlisted but not tracked; remove it from the allowlist")
		}
	}
	slices.Sort(problems)
	return problems
}

// header returns size bytes that start with the given words and bytes,
// padded with zeros.
func header(size int, parts ...any) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			b.WriteString(v)
		case []byte:
			b.Write(v)
		case uint32:
			_ = binary.Write(&b, binary.BigEndian, v)
		}
	}
	return append(b.Bytes(), make([]byte, max(0, size-b.Len()))...)
}

// peImage returns a DOS stub whose e_lfanew points at off, where the PE
// signature sits.
func peImage(off int) []byte {
	img := header(off+64, "MZ")
	binary.LittleEndian.PutUint32(img[0x3c:], uint32(off))
	copy(img[off:], "PE\x00\x00")
	return img
}

func TestLayoutBinaryKind(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		want string
	}{
		{"ELF 64-bit little-endian", header(64, "\x7fELF\x02\x01\x01"), "ELF executable or object"},
		{"ELF 32-bit big-endian", header(52, "\x7fELF\x01\x02\x01"), "ELF executable or object"},
		{"Mach-O 32-bit big-endian", header(28, uint32(0xfeedface)), "Mach-O 32-bit executable or object"},
		{"Mach-O 32-bit little-endian", header(28, uint32(0xcefaedfe)), "Mach-O 32-bit executable or object"},
		{"Mach-O 64-bit big-endian", header(32, uint32(0xfeedfacf)), "Mach-O 64-bit executable or object"},
		{"Mach-O 64-bit little-endian (amd64, arm64)", header(32, uint32(0xcffaedfe), uint32(0x07000001)), "Mach-O 64-bit executable or object"},
		{"Mach-O fat with two architectures", header(48, uint32(0xcafebabe), uint32(2), uint32(0x01000007)), "Mach-O fat (universal) binary"},
		{"Mach-O fat 64-bit offsets", header(48, uint32(0xcafebabf), uint32(1)), "Mach-O fat (universal) binary"},
		{"PE with the signature at 0x80", peImage(0x80), "PE executable (Windows)"},
		{"PE with the signature at 0x100", peImage(0x100), "PE executable (Windows)"},
		{"Go package archive", []byte("!<arch>\n__.PKGDEF       0           0     0     644     1234      `\n"), "ar archive (a Go .a or a static library)"},
		{"WebAssembly module", header(8, "\x00asm\x01"), "WebAssembly module"},
		{"gzip stream", header(20, "\x1f\x8b\x08\x00"), "binary data"},
		{"Java class file is not fat Mach-O", header(16, uint32(0xcafebabe), uint32(0x00000041)), "binary data"},
		{"a NUL late in the head", append(bytes.Repeat([]byte("a"), headSize-1), 0), "binary data"},
		{"a NUL past the head is not looked at", append(bytes.Repeat([]byte("a"), headSize), 0), ""},
		{"MZ text without a PE signature", []byte("MZ is how a DOS stub starts; this line is text.\n"), ""},
		{"MZ stub whose PE signature lies past the head", peImage(headSize)[:headSize], "binary data"},
		{"MZ stub without the PE signature", bytes.ReplaceAll(peImage(0x80), []byte("PE"), []byte("NE")), "binary data"},
		{"Go source", []byte("package main\n\nfunc main() {}\n"), ""},
		{"UTF-8 Markdown", []byte("# Café → naïve ✓\n"), ""},
		{"ELF named in text", []byte("the \\x7fELF magic opens a Linux binary\n"), ""},
		{"empty", nil, ""},
		{"three bytes", []byte("abc"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, binaryKind(tt.head))
		})
	}
}

// TestLayoutTrackedFilesAreSmallText: git tracks no executable, no binary
// data outside binaryAllowed, and nothing over 2 MiB.
func TestLayoutTrackedFilesAreSmallText(t *testing.T) {
	require.Empty(t, trackedFileProblems(t, ".", binaryAllowed),
		"remove these from git (git rm --cached PATH) and ignore them in .gitignore; a file that must stay goes in binaryAllowed with its reason")
}

// TestLayoutTrackedFileProblems runs the check on a repository holding what
// it must refuse, added to the index the way a mistaken commit adds it.
func TestLayoutTrackedFileProblems(t *testing.T) {
	git := testtool.Require(t, "git")
	dir := t.TempDir()
	files := map[string][]byte{
		"main.go":                    []byte("package main\n"),
		"lib/secrets/secrets.test":   header(4096, "\x7fELF\x02\x01\x01"),
		"tool.exe":                   peImage(0x80),
		"bin/darwin/tool":            header(4096, uint32(0xcffaedfe)),
		"disk.qcow2":                 header(4096, "QFI\xfb"),
		"schema.json.gz":             header(1024, "\x1f\x8b\x08\x00"),
		"docs/huge.md":               bytes.Repeat([]byte("text\n"), maxTracked/5+1),
		"docs/at-the-limit.md":       bytes.Repeat([]byte("x"), maxTracked),
		"lib/inventory/inventory.go": []byte("package inventory\n"),
	}
	for rel, data := range files {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, data, 0o644))
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}} {
		out, err := exec.Command(git, append([]string{"-C", dir}, args...)...).CombinedOutput()
		require.NoError(t, err, "git %s: %s", strings.Join(args, " "), out)
	}

	got := trackedFileProblems(t, dir, map[string]string{"schema.json.gz": "kept", "gone.bin": "stale"})
	require.Equal(t, []string{
		"bin/darwin/tool: Mach-O 64-bit executable or object",
		"disk.qcow2: binary data",
		fmt.Sprintf("docs/huge.md: %d bytes, over the 2097152-byte limit", len(files["docs/huge.md"])),
		"gone.bin: allowlisted but not tracked; remove it from the allowlist",
		"lib/secrets/secrets.test: ELF executable or object",
		"tool.exe: PE executable (Windows)",
	}, got)
}

// gitIgnored returns a function that reports whether .gitignore ignores a
// path, as git check-ignore judges it.
func gitIgnored(t *testing.T) func(path string) bool {
	t.Helper()
	git := testtool.Require(t, "git")
	return func(path string) bool {
		err := exec.Command(git, "check-ignore", "--no-index", "-q", path).Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 1 {
			return false
		}
		require.NoError(t, err, "git check-ignore %s", path)
		return true
	}
}

// TestGitignoreBuildOutputs: what go test -c and the profilers write is
// ignored, so it cannot be committed by mistake again.
func TestGitignoreBuildOutputs(t *testing.T) {
	ignored := gitIgnored(t)
	for _, path := range []string{"lib/secrets/secrets.test", "internal/testsuite/testsuite.test", "infra.test",
		"cpu.prof", "lib/inventory/mem.pprof", "tool.exe", "coverage.out"} {
		require.True(t, ignored(path), "%s must be gitignored", path)
	}
	for _, path := range []string{"internal/testsuite/testsuite.go", "internal/testsuite/testsuite_test.go",
		"lib/secrets/testdata/damaged/README.md", "lib/inventory/testdata/fuzz/FuzzParse/0a1b2c3d"} {
		require.False(t, ignored(path), "%s must not be gitignored", path)
	}
}

// idiomRoots are the directories TestLayoutIdioms holds to the idioms:
// every Go file of the repository (testdata and dot directories aside).
var idiomRoots = []string{"."}

// idiomProblems lists, in the Go files under roots, the empty interface
// spelt interface{} instead of any, and loggers that discard built by hand
// around io.Discard instead of slog.DiscardHandler.
func idiomProblems(t *testing.T, roots ...string) []string {
	t.Helper()
	var problems []string
	fset := token.NewFileSet()
	for _, root := range roots {
		require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || (path != root && strings.HasPrefix(d.Name(), "."))) {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.InterfaceType:
					if len(n.Methods.List) == 0 {
						problems = append(problems, fmt.Sprintf("%s: interface{}: write any", fset.Position(n.Pos())))
					}
				case *ast.CallExpr:
					if isSelector(n.Fun, "slog", "NewTextHandler") || isSelector(n.Fun, "slog", "NewJSONHandler") {
						if len(n.Args) > 0 && isSelector(n.Args[0], "io", "Discard") {
							problems = append(problems, fmt.Sprintf("%s: a handler that writes to io.Discard: use slog.DiscardHandler", fset.Position(n.Pos())))
						}
					}
				}
				return true
			})
			return nil
		}))
	}
	return problems
}

// isSelector reports whether e is pkg.name.
func isSelector(e ast.Expr, pkg, name string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg
}

func TestLayoutIdioms(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.go")
	require.NoError(t, os.WriteFile(bad, []byte(`package bad

import ("io"; "log/slog")

var (
	anything interface{}
	named    interface{ M() }
	quiet    = slog.New(slog.NewTextHandler(io.Discard, nil))
	json     = slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{})
	loud     = slog.New(slog.NewTextHandler(io.MultiWriter(), nil))
	good     = slog.New(slog.DiscardHandler)
	s        = "interface{} in a string"
)
`), 0o644))
	require.Equal(t, []string{
		bad + ":6:11: interface{}: write any",
		bad + ":8:22: a handler that writes to io.Discard: use slog.DiscardHandler",
		bad + ":9:13: a handler that writes to io.Discard: use slog.DiscardHandler",
	}, idiomProblems(t, dir))

	require.Empty(t, idiomProblems(t, idiomRoots...))
}
