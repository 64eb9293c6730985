package app

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// imports returns, for every non-test Go file under dir (a path from the
// repository's root), the module's packages it imports.
func imports(t *testing.T, dir string) map[string][]string {
	t.Helper()
	const module = "github.com/clmbridge/clmbridge/"
	out := map[string][]string{}
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if rest, ok := strings.CutPrefix(p, module); ok {
				out[filepath.ToSlash(rel)] = append(out[filepath.ToSlash(rel)], rest)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no Go file under %s imports a package of the module", dir)
	}
	return out
}

// TestOnlyPlatformsGoNamesTheAdapters: the app and the commands reach the
// platforms through package platform; the list in platforms.go is the one
// line a new platform changes.
func TestOnlyPlatformsGoNamesTheAdapters(t *testing.T) {
	for _, dir := range []string{"internal", "cmd"} {
		for file, imps := range imports(t, dir) {
			for _, p := range imps {
				if strings.HasPrefix(p, "adapters/") && file != "internal/app/platforms.go" {
					t.Errorf("%s imports %s: only internal/app/platforms.go may name an adapter", file, p)
				}
			}
		}
	}
}

// TestNoAdapterImportsInternal: the layering runs one way (cmd → internal
// → adapters → platform → bridge → clm/storage).
func TestNoAdapterImportsInternal(t *testing.T) {
	for file, imps := range imports(t, "adapters") {
		for _, p := range imps {
			if strings.HasPrefix(p, "internal/") {
				t.Errorf("%s imports %s: an adapter is given what it needs through package platform", file, p)
			}
		}
	}
}
