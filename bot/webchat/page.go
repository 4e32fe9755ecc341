package webchat

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var staticFiles embed.FS

// Texts renders the page's labels in a language (*locales.Catalog is one).
type Texts interface {
	Text(lang, key string, data map[string]any) (string, error)
}

// page is the chat page, rendered once per language at start.
type page struct {
	byLang map[string][]byte
}

// pageLangs are the languages the page is rendered in; the first is the default.
func pageLangs() []string { return []string{"id", "en"} }

func newPage(texts Texts) (*page, error) {
	src, err := staticFiles.ReadFile("static/index.html")
	if err != nil {
		return nil, fmt.Errorf("webchat: read page: %w", err)
	}
	tmpl, err := template.New("index").Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("webchat: parse page: %w", err)
	}
	p := &page{byLang: map[string][]byte{}}
	for _, lang := range pageLangs() {
		data := map[string]string{"Lang": lang}
		for _, k := range []string{"title", "placeholder", "send", "offline", "error"} {
			s, err := texts.Text(lang, "webchat."+k, nil)
			if err != nil {
				return nil, fmt.Errorf("webchat: page text: %w", err)
			}
			data[strings.ToUpper(k[:1])+k[1:]] = s
		}
		var b bytes.Buffer
		if err := tmpl.Execute(&b, data); err != nil {
			return nil, fmt.Errorf("webchat: render page in %s: %w", lang, err)
		}
		p.byLang[lang] = b.Bytes()
	}
	return p, nil
}

func (p *page) serveIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(p.byLang[preferredLang(r.Header.Get("Accept-Language"))])
}

func (p *page) static() http.Handler {
	sub, _ := fs.Sub(staticFiles, "static")
	return http.StripPrefix("/static/", http.FileServerFS(sub))
}

// preferredLang picks the first language of an Accept-Language header that the page
// has, else the default.
func preferredLang(header string) string {
	for _, part := range strings.Split(header, ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		for _, l := range pageLangs() {
			if base == l {
				return l
			}
		}
	}
	return pageLangs()[0]
}
