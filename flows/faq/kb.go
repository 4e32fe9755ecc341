// Package faq answers questions from a knowledge base, the way people really type
// them: it normalises text, replaces slang, abbreviations and synonyms (English
// tourist words included), corrects typos against the knowledge base's own
// vocabulary, stems Indonesian words, ranks entries with BM25 over their phrasings and
// says how sure it is. Nothing in it names an entry or a region: everything it knows
// comes from the knowledge base and the lexicon (locales/faq/, locales/lexicon.yaml).
package faq

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Entry is one question-and-answer of the knowledge base.
type Entry struct {
	ID        string
	Questions map[string][]string // language → phrasings
	Answer    map[string]string   // language → answer text
	Tags      []string
	Source    string // "file:line", for messages; the file is where Export writes it
	Staff     bool   // added or changed by staff (Overlay)
}

// AnswerIn returns the answer in lang, or the Indonesian one and false when the entry
// has none in lang.
func (e *Entry) AnswerIn(lang string) (string, bool) {
	if a, ok := e.Answer[lang]; ok && a != "" {
		return a, true
	}
	return e.Answer["id"], lang == "id"
}

// rawEntry is an entry as written: questions and answer may each be plain (Indonesian)
// or a map of language → value.
type rawEntry struct {
	ID        string    `yaml:"id"`
	Questions yaml.Node `yaml:"questions"`
	Answer    yaml.Node `yaml:"answer"`
	Tags      []string  `yaml:"tags"`
}

// ParseKB reads the entries of one knowledge base file. Errors name the file, the line
// and what is wrong.
func ParseKB(name string, data []byte) ([]Entry, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	list := doc.Content[0]
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s:%d: want a list of entries", name, list.Line)
	}
	var out []Entry
	for _, n := range list.Content {
		e, err := parseEntry(n)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n.Line, err)
		}
		e.Source = fmt.Sprintf("%s:%d", name, n.Line)
		out = append(out, e)
	}
	return out, nil
}

func parseEntry(n *yaml.Node) (Entry, error) {
	var raw rawEntry
	if err := n.Decode(&raw); err != nil {
		return Entry{}, err
	}
	e := Entry{ID: strings.TrimSpace(raw.ID), Tags: raw.Tags}
	if e.ID == "" {
		return e, errors.New("entry without id")
	}
	var err error
	if e.Questions, err = byLanguage[[]string](&raw.Questions); err != nil {
		return e, fmt.Errorf("entry %s: questions: %w", e.ID, err)
	}
	if e.Answer, err = byLanguage[string](&raw.Answer); err != nil {
		return e, fmt.Errorf("entry %s: answer: %w", e.ID, err)
	}
	if len(e.Questions["id"]) == 0 && len(e.Questions) == 0 {
		return e, fmt.Errorf("entry %s: no questions", e.ID)
	}
	if strings.TrimSpace(e.Answer["id"]) == "" {
		return e, fmt.Errorf("entry %s: no Indonesian answer", e.ID)
	}
	return e, nil
}

// byLanguage decodes a value written either plain (meaning Indonesian) or as a map of
// language → value.
func byLanguage[T any](n *yaml.Node) (map[string]T, error) {
	out := map[string]T{}
	if n.Kind == 0 {
		return out, nil
	}
	if n.Kind == yaml.MappingNode {
		if err := n.Decode(&out); err != nil {
			return nil, err
		}
		return out, nil
	}
	var v T
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	out["id"] = v
	return out, nil
}

// LoadKB reads every *.yaml file of dir in fsys, in name order, as one knowledge base.
// A duplicate id is an error that names both places.
func LoadKB(fsys fs.FS, dir string) ([]Entry, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var all []Entry
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("faq: read %s: %w", name, err)
		}
		es, err := ParseKB(name, b)
		if err != nil {
			return nil, fmt.Errorf("faq: %w", err)
		}
		all = append(all, es...)
	}
	return all, CheckIDs(all)
}

// CheckIDs reports duplicate ids.
func CheckIDs(entries []Entry) error {
	seen := map[string]string{}
	var errs []error
	for _, e := range entries {
		if first, ok := seen[e.ID]; ok {
			errs = append(errs, fmt.Errorf("faq: %s: duplicate id %q (first at %s)", e.Source, e.ID, first))
			continue
		}
		seen[e.ID] = e.Source
	}
	return errors.Join(errs...)
}
