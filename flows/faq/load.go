package faq

import (
	"fmt"
	"io/fs"

	"go.yaml.in/yaml/v3"
)

// ParseLexicon reads a lexicon file (locales/lexicon.yaml).
func ParseLexicon(name string, data []byte) (Lexicon, error) {
	var lx Lexicon
	if err := yaml.Unmarshal(data, &lx); err != nil {
		return lx, fmt.Errorf("faq: %s: %w", name, err)
	}
	return lx, nil
}

// Load builds the matcher from content: the knowledge base in faq/*.yaml and the
// lexicon in lexicon.yaml (locales.Content gives both).
func Load(content fs.FS) (*Matcher, error) {
	entries, err := LoadKB(content, "faq")
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("faq: no entries in faq/*.yaml")
	}
	b, err := fs.ReadFile(content, "lexicon.yaml")
	if err != nil {
		return nil, fmt.Errorf("faq: read lexicon: %w", err)
	}
	lx, err := ParseLexicon("lexicon.yaml", b)
	if err != nil {
		return nil, err
	}
	return NewMatcher(entries, lx), nil
}

// Entries returns the knowledge base, in file order.
func (m *Matcher) Entries() []Entry { return m.entries }
