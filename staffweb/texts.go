package staffweb

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/layan-id/layan/domain"
)

// tr renders the workspace's texts in one language; pages call it as {{.T.S "key"}}.
type tr struct {
	Lang  string
	texts Texts
	loc   *time.Location
}

func (s *Server) tr(lang string) tr { return tr{Lang: lang, texts: s.cfg.Texts, loc: s.loc} }

// Other is the language the switch offers.
func (t tr) Other() string {
	if t.Lang == "en" {
		return "id"
	}
	return "en"
}

// S renders key with pairs of a name and a value: {{.T.S "key" "N" 3}}. A missing
// key shows as [key] (and fails the tests).
func (t tr) S(key string, pairs ...any) string {
	var data map[string]any
	if len(pairs) > 0 {
		data = map[string]any{}
		for i := 0; i+1 < len(pairs); i += 2 {
			data[fmt.Sprint(pairs[i])] = pairs[i+1]
		}
	}
	s, _ := t.texts.Text(t.Lang, key, data)
	return s
}

// Date is a time as staff read it: 01-12-2026 09.05, in the region's zone.
func (t tr) Date(at time.Time) string {
	if at.IsZero() {
		return ""
	}
	return at.In(t.loc).Format("02-01-2006 15.04")
}

// Day is a date without the time.
func (t tr) Day(at time.Time) string {
	if at.IsZero() {
		return ""
	}
	return at.In(t.loc).Format("02-01-2006")
}

// Status is a complaint status's name.
func (t tr) Status(st domain.Status) string { return t.S("complaint.status." + string(st)) }

// Hours is a time to finish in words: in hours up to two days, else in days, with
// one decimal written as the language writes it (5,5 jam; 3.2 days).
func (t tr) Hours(h float64) string {
	key, n := "workspace.reports.hours", h
	if h >= 48 {
		key, n = "workspace.reports.days", h/24
	}
	s := strconv.FormatFloat(n, 'f', 1, 64)
	if t.Lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return t.S(key, "N", s)
}

// Category is a complaint category's name.
func (t tr) Category(c string) string { return t.S("complaint.category." + c) }

// Topic is a broadcast topic's name.
func (t tr) Topic(topic string) string { return t.S("subscribe.topic." + topic + ".name") }

// Channel is a channel's name as staff know it.
func (t tr) Channel(ch string) string { return t.S("workspace.channel." + ch) }

// funcs are the helpers every template may use.
func funcs() template.FuncMap {
	return template.FuncMap{
		"lines": func(s string) []string { return strings.Split(s, "\n") },
		"add":   func(a, b int) int { return a + b },
		// tab is the page's view marked with the tab of its section it shows (the
		// knowledge base's sub-menu); withData is the view with other data, for a
		// template shared by pages.
		"tab":      func(v view, name string) view { v.Tab = name; return v },
		"withData": func(v view, data any) view { v.Data = data; return v },
		"list":     func(v ...any) []any { return v },
		"has": func(list []string, s string) bool {
			for _, x := range list {
				if x == s {
					return true
				}
			}
			return false
		},
	}
}
