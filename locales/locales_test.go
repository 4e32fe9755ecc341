package locales_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/layan-id/layan/locales"
)

var sample = locales.Sample()

func load(t *testing.T, dir string) *locales.Catalog {
	t.Helper()
	c, err := locales.Load(dir, map[string]any{"Region": "Kabupaten Contoh"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEveryLanguageHasEveryKeyAndEveryTemplateRenders(t *testing.T) {
	if err := load(t, "").Check(sample); err != nil {
		t.Fatal(err)
	}
}

func TestCheckFindsAMissingKeyAndABrokenTemplate(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "en.yaml"), []byte("only_in_english: hi\ngreeting: \"{{.Nope}}\"\n"), 0o644)
	err := load(t, dir).Check(sample)
	if err == nil || !strings.Contains(err.Error(), `id.yaml lacks key "only_in_english"`) || !strings.Contains(err.Error(), `"greeting"`) {
		t.Fatalf("Check = %v, want the missing key and the broken template named", err)
	}
}

func TestContentDirOverridesKeyByKey(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "id.yaml"), []byte("cancelled: Sudah dibatalkan, Bapak/Ibu.\n"), 0o644)
	c := load(t, dir)
	if got, _ := c.Text("id", "cancelled", nil); got != "Sudah dibatalkan, Bapak/Ibu." {
		t.Errorf("overridden text = %q", got)
	}
	if got, _ := c.Text("id", "menu.help", nil); got != "Bantuan" {
		t.Errorf("a key the override does not name changed: %q", got)
	}
}

func TestAMalformedOverrideFailsWithTheFileName(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "en.yaml"), []byte("greeting: [unclosed\n"), 0o644)
	if _, err := locales.Load(dir, nil); err == nil || !strings.Contains(err.Error(), "en.yaml") {
		t.Fatalf("Load = %v, want an error naming en.yaml", err)
	}
}

func TestAnUnknownLanguageFallsBackToIndonesian(t *testing.T) {
	c := load(t, "")
	id, _ := c.Text("id", "cancelled", nil)
	if got, _ := c.Text("fr", "cancelled", nil); got != id {
		t.Errorf("fr text = %q, want the Indonesian %q", got, id)
	}
}

// textCalls are the methods and functions that take a text key; the argument index
// of the key is given.
var textCalls = map[string]int{"Say": 0, "T": 0, "Ask": 0, "Opt": 1, "Text": 1, "label": 1, "Words": 0}

var keyLike = regexp.MustCompile(`^[a-z][a-z_]*(\.[a-z_]+)*\.?$`)

// TestEveryKeyUsedInCodeExists reads the Go source of the whole module and checks
// every text key passed as a literal to the functions that render texts (and every
// literal prefix such as "bad_input."+kind) against the default language.
func TestEveryKeyUsedInCodeExists(t *testing.T) {
	c := load(t, "")
	keys := c.Keys(locales.Default)
	found := 0
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var name string
			switch fn := call.Fun.(type) {
			case *ast.SelectorExpr:
				name = fn.Sel.Name
			case *ast.Ident:
				name = fn.Name
			}
			i, ok := textCalls[name]
			if !ok || i >= len(call.Args) {
				return true
			}
			lit, prefix := keyLiteral(call.Args[i])
			if lit == "" || !keyLike.MatchString(lit) {
				return true
			}
			found++
			if !hasKey(keys, lit, prefix) {
				t.Errorf("%s: text key %q is not in id.yaml", fset.Position(call.Pos()), lit)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 10 {
		t.Fatalf("found only %d text keys in the code: the scan is broken", found)
	}
}

// keyLiteral returns the literal key of an argument, or the literal start of a
// concatenation ("bad_input."+kind) with prefix true.
func keyLiteral(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if s, err := strconv.Unquote(e.Value); err == nil && e.Kind == token.STRING {
			return s, false
		}
	case *ast.BinaryExpr:
		if s, _ := keyLiteral(e.X); s != "" && e.Op == token.ADD {
			return s, true
		}
	}
	return "", false
}

func hasKey(keys []string, key string, prefix bool) bool {
	for _, k := range keys {
		if k == key || prefix && strings.HasPrefix(k, key) {
			return true
		}
	}
	return false
}

func TestTheRegionNameIsContentUnlessTheOperatorNamesIt(t *testing.T) {
	fromContent, err := locales.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	named := load(t, "")
	for _, tc := range []struct {
		c          *locales.Catalog
		lang, want string
	}{
		{fromContent, "id", "publik Kabupaten Batang."},
		{fromContent, "en", "assistant of Batang Regency."},
		{named, "en", "assistant of Kabupaten Contoh."},
	} {
		if got, _ := tc.c.Text(tc.lang, "greeting", nil); !strings.Contains(got, tc.want) {
			t.Errorf("greeting in %s = %q, want it to contain %q", tc.lang, got, tc.want)
		}
	}
	// A text rendered once at load for calls without data still takes the data a
	// call gives.
	if got, _ := named.Text("id", "greeting", map[string]any{"Region": "Kota Lain"}); !strings.Contains(got, "publik Kota Lain.") {
		t.Errorf("greeting with the region given = %q, want it to name Kota Lain", got)
	}
}

func TestContentFilesOverrideAndAdd(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "faq"), 0o755)
	os.WriteFile(filepath.Join(dir, "faq", "wisata.yaml"), []byte("# replaced\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "faq", "lokal.yaml"), []byte("# added\n"), 0o644)
	c := locales.Content(dir)
	names, err := fs.Glob(c, "faq/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(names, "faq/lokal.yaml") || !slices.Contains(names, "faq/dukcapil.yaml") {
		t.Errorf("faq files = %v, want the embedded ones and the added one", names)
	}
	b, _ := fs.ReadFile(c, "faq/wisata.yaml")
	if string(b) != "# replaced\n" {
		t.Errorf("faq/wisata.yaml was not replaced: %.40q", b)
	}
	if b, _ := fs.ReadFile(c, "lexicon.yaml"); len(b) < 100 {
		t.Errorf("lexicon.yaml missing from the content")
	}
}
