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

	"github.com/layan-id/layan/bot"
)

// files holds the page template (page/) and the files it loads (static/).
//
//go:embed page static
var files embed.FS

// page is the chat page, rendered once per language at start.
type page struct {
	byLang         map[string][]byte
	frameAncestors string // CSP sources that may frame the page
}

// DefaultFrameAncestors lets only the page's own site show it in a frame.
const DefaultFrameAncestors = "'self'"

// ParseFrameAncestors checks a list of who may show the chat page in a frame
// (WEBCHAT_FRAME_ANCESTORS), separated by spaces or commas: 'self', 'none' (alone), a
// scheme such as https:, or an origin such as https://batangkab.go.id or
// https://*.batangkab.go.id (a host without scheme too). It returns the list as the
// frame-ancestors directive takes it.
func ParseFrameAncestors(v string) (string, error) {
	fields := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	if len(fields) == 0 {
		return "", fmt.Errorf("empty: want 'self', 'none' or origins such as https://example.go.id")
	}
	for _, f := range fields {
		switch {
		case f == "'self'":
		case f == "'none'":
			if len(fields) > 1 {
				return "", fmt.Errorf("'none' cannot be combined with other sources")
			}
		case f == "http:" || f == "https:":
		case !validOrigin(f):
			return "", fmt.Errorf("%q is not an origin such as https://example.go.id or https://*.example.go.id", f)
		}
	}
	return strings.Join(fields, " "), nil
}

// validOrigin accepts [http(s)://]host[:port], where host may start with "*.".
func validOrigin(s string) bool {
	host := s
	if rest, ok := strings.CutPrefix(s, "https://"); ok {
		host = rest
	} else if rest, ok := strings.CutPrefix(s, "http://"); ok {
		host = rest
	}
	host = strings.TrimSuffix(host, "/")
	if h, port, ok := strings.Cut(host, ":"); ok {
		if _, err := strconv.ParseUint(port, 10, 16); err != nil && port != "*" {
			return false
		}
		host = h
	}
	host = strings.TrimPrefix(host, "*.")
	if host == "" || len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// pageLangs are the languages the page is rendered in; the first is the default.
func pageLangs() []string { return []string{"id", "en"} }

func newPage(texts bot.Texts) (*page, error) {
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
		for _, k := range []string{"title", "placeholder", "send", "offline", "error", "attach", "share_location", "no_location", "location_denied", "new_chat", "new_chat_hint",
			"status_waiting", "status_active", "status_ended"} {
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
	p := &page{byLang: map[string][]byte{}, frameAncestors: DefaultFrameAncestors}
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
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data: blob:; "+
		"frame-ancestors "+p.frameAncestors)
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
