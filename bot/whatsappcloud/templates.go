package whatsappcloud

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// TemplatesFile is the content file that names the approved message templates.
const TemplatesFile = "whatsapp_templates.yaml"

// Template is one message template approved by Meta, for one purpose and language.
type Template struct {
	Purpose    string   `yaml:"purpose"`    // complaint_status, staff_alert, broadcast.<topic>
	Name       string   `yaml:"name"`       // as submitted to Meta
	Language   string   `yaml:"language"`   // Meta's code: id, en, en_US
	Category   string   `yaml:"category"`   // UTILITY or MARKETING, as submitted
	Parameters []string `yaml:"parameters"` // the named values for {{1}}, {{2}} ...
	Text       string   `yaml:"text"`       // the body as submitted, for staff and the README
}

// Templates are the approved templates, by purpose.
type Templates struct {
	byPurpose map[string][]Template
}

var (
	templateName = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)
	placeholder  = regexp.MustCompile(`\{\{(\d+)\}\}`)
)

// LoadTemplates reads TemplatesFile from fsys (the content: embedded, or CONTENT_DIR
// over it). A missing file means no templates; a malformed one is an error naming
// the file and the template.
func LoadTemplates(fsys fs.FS) (*Templates, error) {
	b, err := fs.ReadFile(fsys, TemplatesFile)
	if errors.Is(err, fs.ErrNotExist) {
		return &Templates{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", TemplatesFile, err)
	}
	return ParseTemplates(b)
}

// ParseTemplates reads the content of TemplatesFile.
func ParseTemplates(b []byte) (*Templates, error) {
	var doc struct {
		Templates []Template `yaml:"templates"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", TemplatesFile, err)
	}
	t := &Templates{byPurpose: map[string][]Template{}}
	var errs []error
	seen := map[string]bool{}
	for i, tp := range doc.Templates {
		where := fmt.Sprintf("%s: template %d (%s)", TemplatesFile, i+1, tp.Name)
		switch {
		case tp.Purpose == "":
			errs = append(errs, fmt.Errorf("%s: no purpose", where))
		case !templateName.MatchString(tp.Name):
			errs = append(errs, fmt.Errorf("%s: a name is lower-case letters, digits and _", where))
		case tp.Language == "":
			errs = append(errs, fmt.Errorf("%s: no language", where))
		case seen[tp.Purpose+"/"+tp.Language]:
			errs = append(errs, fmt.Errorf("%s: a second template for %s in %s", where, tp.Purpose, tp.Language))
		}
		seen[tp.Purpose+"/"+tp.Language] = true
		n := 0
		for _, m := range placeholder.FindAllStringSubmatch(tp.Text, -1) {
			var k int
			fmt.Sscan(m[1], &k)
			n = max(n, k)
		}
		if tp.Text != "" && n != len(tp.Parameters) {
			errs = append(errs, fmt.Errorf("%s: the text has %d placeholders but %d parameters are named", where, n, len(tp.Parameters)))
		}
		for _, p := range tp.Parameters {
			if strings.TrimSpace(p) == "" {
				errs = append(errs, fmt.Errorf("%s: an empty parameter name", where))
			}
		}
		t.byPurpose[tp.Purpose] = append(t.byPurpose[tp.Purpose], tp)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

// Find returns the template for the first purpose that has one, in lang (a person's
// language: "en" matches "en" and "en_US"), else in Indonesian, else in any language.
func (t *Templates) Find(purposes []string, lang string) (Template, bool) {
	if t == nil {
		return Template{}, false
	}
	for _, p := range purposes {
		list := t.byPurpose[p]
		for _, want := range []string{lang, "id"} {
			for _, tp := range list {
				if tp.Language == want || strings.HasPrefix(tp.Language, want+"_") {
					return tp, true
				}
			}
		}
		if len(list) > 0 {
			return list[0], true
		}
	}
	return Template{}, false
}

// Has reports whether a purpose has a template.
func (t *Templates) Has(purpose string) bool { return t != nil && len(t.byPurpose[purpose]) > 0 }

// message builds the Cloud API message of tp with its parameters taken from params
// (a missing one is "-": Meta refuses an empty parameter).
func (tp Template) message(to string, params map[string]string) map[string]any {
	ps := make([]map[string]any, len(tp.Parameters))
	for i, name := range tp.Parameters {
		v := strings.TrimSpace(params[name])
		if v == "" {
			v = "-"
		}
		// Meta refuses new lines, tabs and more than four spaces in a row in a parameter.
		v = strings.Join(strings.Fields(v), " ")
		if r := []rune(v); len(r) > 1000 {
			v = string(r[:999]) + "…"
		}
		ps[i] = map[string]any{"type": "text", "text": v}
	}
	tmpl := map[string]any{"name": tp.Name, "language": map[string]any{"code": tp.Language}}
	if len(ps) > 0 {
		tmpl["components"] = []any{map[string]any{"type": "body", "parameters": ps}}
	}
	return map[string]any{"recipient_type": "individual", "to": to, "type": "template", "template": tmpl}
}
