package webchat

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// files holds the page template (page/) and the files it loads (static/).
//
//go:embed page static
var files embed.FS

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
	src, err := files.ReadFile("page/index.html")
	if err != nil {
		return nil, fmt.Errorf("webchat: read page: %w", err)
	}
	tmpl, err := template.New("index").Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("webchat: parse page: %w", err)
	}
	labels := map[string]map[string]string{} // lang → name → text
	for _, lang := range pageLangs() {
		labels[lang] = map[string]string{}
		for _, k := range []string{"title", "placeholder", "send", "offline", "error", "attach", "share_location", "no_location"} {
			s, err := texts.Text(lang, "webchat."+k, nil)
			if err != nil {
				return nil, fmt.Errorf("webchat: page text: %w", err)
			}
			labels[lang][k] = s
		}
	}
	all, err := json.Marshal(labels)
	if err != nil {
		return nil, fmt.Errorf("webchat: encode page texts: %w", err)
	}
	p := &page{byLang: map[string][]byte{}}
	for _, lang := range pageLangs() {
		// The page switches its labels when the person changes language in the chat.
		data := map[string]any{"Lang": lang, "Text": labels[lang], "Labels": string(all)}
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

// static serves the page's files; directories are not listed.
func (p *page) static() http.Handler {
	sub, _ := fs.Sub(files, "static")
	fileServer := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		fileServer.ServeHTTP(w, r)
	})
}

// preferredLang picks the language of an Accept-Language header with the highest
// quality that the page has (the earlier on a tie), else the default.
func preferredLang(header string) string {
	best, bestQ := pageLangs()[0], 0.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q > bestQ && slices.Contains(pageLangs(), base) {
			best, bestQ = base, q
		}
	}
	return best
}
