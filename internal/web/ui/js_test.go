package ui

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// needNode returns the path of node, or skips the test outside CI (and
// fails it in CI) when node is not installed.
func needNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatal("node is not installed; CI needs it to check the JavaScript (apt-get install nodejs)")
		}
		t.Skip("node is not installed; skipping the JavaScript checks (apt-get install nodejs)")
	}
	return node
}

// jsFiles returns the names of the embedded scripts ("js/login.js", ...).
func jsFiles(t *testing.T) []string {
	t.Helper()
	var names []string
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".js") {
			names = append(names, strings.TrimPrefix(p, "static/"))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no scripts under static/js")
	}
	return names
}

// TestJavaScriptSyntax parses every script as an ES module. The source goes
// through stdin with --input-type=module because node --check on a .js file
// outside a "type": "module" package lets module syntax errors pass.
func TestJavaScriptSyntax(t *testing.T) {
	node := needNode(t)
	for _, name := range jsFiles(t) {
		t.Run(name, func(t *testing.T) {
			src, err := staticFS.ReadFile("static/" + name)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(node, "--input-type=module", "--check")
			cmd.Stdin = bytes.NewReader(src)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("node --check %s: %v\n%s", name, err, out)
			}
		})
	}
}

// TestJavaScriptUnits runs the node:test files in testdata/js.
func TestJavaScriptUnits(t *testing.T) {
	node := needNode(t)
	files, err := filepath.Glob(filepath.Join("testdata", "js", "*.test.mjs"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no node tests in testdata/js (%v)", err)
	}
	cmd := exec.Command(node, append([]string{"--test", "--test-reporter=tap"}, files...)...)
	cmd.Env = append(os.Environ(), "NODE_NO_WARNINGS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^# pass [1-9]`).Match(out) || !regexp.MustCompile(`(?m)^# fail 0$`).Match(out) {
		t.Fatalf("node --test ran no passing tests:\n%s", out)
	}
	if testing.Verbose() {
		t.Logf("%s", out)
	}
}

// TestScriptsStayOutOfTheTemplates: the scripts import only relative
// modules that exist, and use no eval-like constructs the CSP would refuse.
func TestScriptModules(t *testing.T) {
	names := jsFiles(t)
	reImport := regexp.MustCompile(`(?m)^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]`)
	for _, name := range names {
		src, err := staticFS.ReadFile("static/" + name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range reImport.FindAllStringSubmatch(string(src), -1) {
			spec := m[1]
			if !strings.HasPrefix(spec, "./") {
				t.Errorf("%s imports %q: only relative modules (no bundler)", name, spec)
				continue
			}
			target := filepath.ToSlash(filepath.Join(filepath.Dir(name), spec))
			if !slices.Contains(names, target) {
				t.Errorf("%s imports %q, which is not under static/", name, spec)
			}
		}
		for _, bad := range []string{"eval(", "new Function", "innerHTML", ".style.", "setAttribute('style'", "document.write"} {
			if strings.Contains(string(src), bad) {
				t.Errorf("%s uses %q", name, bad)
			}
		}
	}
}
