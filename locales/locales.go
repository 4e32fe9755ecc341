// Package locales holds every text a person reads, in Indonesian (id, the default) and
// English (en), as YAML files embedded in the binary: id.yaml and en.yaml, plus one
// pair per part of the service (tourism.id.yaml, tourism.en.yaml, ...). A directory given at run time
// (CONTENT_DIR) overrides them key by key, so staff can correct a text without a
// rebuild.
//
// A locale file is a YAML map; nested maps are read as dotted keys ("menu.prompt").
// Values are Go text/template templates; every template receives the catalog's
// variables (Region, ...) merged with the data of the call. The region's name is
// content too: the text "region" of each language, unless the operator names it
// (REGION_NAME), which then holds for every language.
//
// Catalog.Schedule says when a broadcast runs (a domain.Timing) in words, from the
// texts schedule.*: the one place a schedule is put in words, for the chat and the
// staff's pages.
package locales

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"
)

//go:embed *.yaml faq
var embedded embed.FS

// Default is the language used when a person has chosen none, and the fallback for a
// text missing in another language.
const Default = "id"

// Languages returns the UI languages, the default first.
func Languages() []string { return []string{"id", "en"} }

// Catalog is the loaded set of texts. It is safe for concurrent use.
type Catalog struct {
	texts map[string]map[string]*template.Template // lang → key → template
	plain map[string]map[string]string             // lang → key → text without template actions
	bare  map[string]map[string]string             // lang → key → template rendered with vars alone
	vars  map[string]map[string]any                // lang → template variables
	words map[string][]string                      // key → keywords of every language
}

// Load reads the embedded locale files, then the files of the same name in
// contentDir (when not empty), whose keys replace the embedded ones. vars are
// available to every template; a missing or empty "Region" is taken from each
// language's "region" text. vars must not change after Load: a text that uses only
// them is rendered once, here.
func Load(contentDir string, vars map[string]any) (*Catalog, error) {
	c := &Catalog{texts: map[string]map[string]*template.Template{}, plain: map[string]map[string]string{},
		bare: map[string]map[string]string{}, vars: map[string]map[string]any{}, words: map[string][]string{}}
	for _, lang := range Languages() {
		// id.yaml, then the texts of one part each: tourism.id.yaml, ...
		names, err := fs.Glob(embedded, "*."+lang+".yaml")
		if err != nil {
			return nil, err
		}
		raw := map[string]string{}
		for _, name := range append([]string{lang + ".yaml"}, names...) {
			part := map[string]string{}
			if err := readFlat(embedded, name, part); err != nil {
				return nil, err
			}
			for k, v := range part {
				if _, dup := raw[k]; dup && !strings.HasPrefix(k, "keywords.") {
					return nil, fmt.Errorf("locales: %s: key %q is already in another file", name, k)
				}
				if strings.HasPrefix(k, "keywords.") && raw[k] != "" {
					v = raw[k] + ", " + v // keyword lists add up across files
				}
				raw[k] = v
			}
			if contentDir != "" {
				err := readFlat(os.DirFS(contentDir), name, raw)
				if err != nil && !errors.Is(err, fs.ErrNotExist) {
					return nil, err
				}
			}
		}
		c.vars[lang] = maps.Clone(vars)
		if c.vars[lang] == nil {
			c.vars[lang] = map[string]any{}
		}
		if r, _ := c.vars[lang]["Region"].(string); r == "" {
			c.vars[lang]["Region"] = raw["region"]
		}
		c.texts[lang] = map[string]*template.Template{}
		c.plain[lang] = map[string]string{}
		c.bare[lang] = map[string]string{}
		for key, src := range raw {
			t, err := template.New(key).Option("missingkey=error").Parse(src)
			if err != nil {
				return nil, fmt.Errorf("locales: %s: key %q: %w", lang, key, err)
			}
			c.texts[lang][key] = t
			if !strings.Contains(src, "{{") {
				c.plain[lang][key] = src // most texts: no need to execute a template
				continue
			}
			// Many templates use only the variables ("{{.Region}}"): rendered once here
			// for the calls without data, the vars being fixed from now on.
			var b bytes.Buffer
			if t.Execute(&b, c.vars[lang]) == nil {
				c.bare[lang][key] = b.String()
			}
		}
	}
	for _, lang := range Languages() {
		for key := range c.texts[lang] {
			if strings.HasPrefix(key, "keywords.") {
				c.words[key] = c.collectWords(key) // read on every message: once here
			}
		}
	}
	return c, nil
}

// readFlat adds the keys of one YAML file to into, flattening nested maps.
func readFlat(fsys fs.FS, name string, into map[string]string) error {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("locales: read %s: %w", name, err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("locales: %s: %w", name, err)
	}
	return flatten(name, "", doc, into)
}

func flatten(file, prefix string, m map[string]any, into map[string]string) error {
	for k, v := range m {
		key := prefix + k
		switch v := v.(type) {
		case map[string]any:
			if err := flatten(file, key+".", v, into); err != nil {
				return err
			}
		case string:
			into[key] = v
		case int, float64, bool:
			into[key] = fmt.Sprint(v)
		default:
			return fmt.Errorf("locales: %s: key %q: want text, got %T", file, key, v)
		}
	}
	return nil
}

// Lang returns lang when the catalog has it, else the default language.
func (c *Catalog) Lang(lang string) string {
	if _, ok := c.texts[lang]; ok {
		return lang
	}
	return Default
}

// Has reports whether key exists in the default language.
func (c *Catalog) Has(key string) bool {
	_, ok := c.texts[Default][key]
	return ok
}

// Text renders key in lang (falling back to the default language) with data, which
// may be nil or a map[string]any. A missing key or a failing template yields "[key]"
// and an error, so a mistake is visible in tests and never silent.
func (c *Catalog) Text(lang, key string, data map[string]any) (string, error) {
	lang = c.Lang(lang)
	if s, ok := c.plain[lang][key]; ok {
		return s, nil
	}
	if s, ok := c.bare[lang][key]; ok && len(data) == 0 {
		return s, nil
	}
	t, ok := c.texts[lang][key]
	if !ok {
		t, ok = c.texts[Default][key]
	}
	if !ok {
		return "[" + key + "]", fmt.Errorf("locales: no text %q", key)
	}
	all := maps.Clone(c.vars[lang])
	maps.Copy(all, data)
	var b bytes.Buffer
	if err := t.Execute(&b, all); err != nil {
		return "[" + key + "]", fmt.Errorf("locales: render %q in %s: %w", key, lang, err)
	}
	return b.String(), nil
}

// Keys returns the keys of one language, sorted.
func (c *Catalog) Keys(lang string) []string {
	return slices.Sorted(maps.Keys(c.texts[lang]))
}

// Words returns the comma-separated list of key in every language, lower-cased and
// trimmed: the keywords a person may type, whatever their language. The caller must
// not change the result.
func (c *Catalog) Words(key string) []string {
	if ws, ok := c.words[key]; ok {
		return ws
	}
	return c.collectWords(key)
}

func (c *Catalog) collectWords(key string) []string {
	var out []string
	for _, lang := range Languages() {
		s, err := c.Text(lang, key, nil)
		if err != nil {
			continue
		}
		for _, w := range strings.Split(s, ",") {
			if w = strings.ToLower(strings.TrimSpace(w)); w != "" && !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Check verifies that every language has exactly the keys of every other and that
// each template renders with the given sample data. It returns all problems at once.
func (c *Catalog) Check(sample map[string]any) error {
	var errs []error
	all := map[string]bool{}
	for _, lang := range Languages() {
		for k := range c.texts[lang] {
			all[k] = true
		}
	}
	for _, lang := range Languages() {
		for _, k := range slices.Sorted(maps.Keys(all)) {
			if _, ok := c.texts[lang][k]; !ok {
				errs = append(errs, fmt.Errorf("locales: %s.yaml lacks key %q", lang, k))
				continue
			}
			if _, err := c.Text(lang, k, sample); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Sample holds a value for every field the code passes to templates, for Check: a
// template naming any other field fails the check (and would fail in use).
func Sample() map[string]any {
	return map[string]any{
		"Max": 4096, "N": 1, "Total": 3,
		"ID": "ABC-261127-0001", "Date": "27-11-2026 09:00", "Status": "Diterima", "From": "Diterima",
		"To": "Selesai", "Note": "catatan", "Category": "Jalan rusak", "Description": "jalan berlubang",
		"Location": "Jl. Contoh", "Photos": "1", "Confidential": "tidak", "Summary": "jalan berlubang",
		"Channel": "telegram", "Command": "selesai",
		"Position": 1, "Opens": "Senin, 30-11-2026 pukul 08.00", "Day": "Senin", "Time": "08.00",
		"Text": "halo", "Lang": "id", "Since": "27-11-2026 09:00",
		"Address": "Jl. Contoh 1", "Agency": "Dinas PUPR", "Of": "ABC-261127-0002", "Codes": "pupr, dlh",
		"Phase": "verifikasi", "Due": "30-11-2026 00:00", "Overdue": true, "Link": "https://www.openstreetmap.org/",
		"By": "sari", "Role": "viewer", "More": 2,
		"District": "Sukamaju", "Place": "Kecamatan Sukamaju", "Typed": "dekat pasar",
		"Until": "09.30", "Name": "budi", "Sent": 2,
		"Hour": "06", "Minute": "00", "Month": "Desember", "Year": 2026, "Average": "4,5",
	}
}
