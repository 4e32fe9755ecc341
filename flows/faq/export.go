package faq

import (
	"bytes"
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/layan-id/layan/domain"
)

// Export writes entries as the knowledge base's files (file name → YAML), each
// entry in the file it came from (FileOf) in order, in the form LoadKB reads:
// id, tags, questions and answer by language, Indonesian first.
func Export(entries []Entry) (map[string][]byte, error) {
	lists := map[string]*yaml.Node{}
	var order []string
	for i := range entries {
		e := &entries[i]
		file := FileOf(e)
		if lists[file] == nil {
			lists[file] = &yaml.Node{Kind: yaml.SequenceNode}
			order = append(order, file)
		}
		lists[file].Content = append(lists[file].Content, entryNode(e))
	}
	out := map[string][]byte{}
	for _, file := range order {
		var b bytes.Buffer
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{lists[file]}}); err != nil {
			return nil, fmt.Errorf("faq: export %s: %w", file, err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("faq: export %s: %w", file, err)
		}
		out[file] = b.Bytes()
	}
	return out, nil
}

func entryNode(e *Entry) *yaml.Node {
	str := func(s string) *yaml.Node {
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
		if bytes.ContainsRune([]byte(s), '\n') {
			n.Style = yaml.LiteralStyle
		}
		return n
	}
	m := &yaml.Node{Kind: yaml.MappingNode}
	add := func(k string, v *yaml.Node) { m.Content = append(m.Content, str(k), v) }
	add("id", str(e.ID))
	if len(e.Tags) > 0 {
		tags := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, t := range e.Tags {
			tags.Content = append(tags.Content, str(t))
		}
		add("tags", tags)
	}
	qs, as := &yaml.Node{Kind: yaml.MappingNode}, &yaml.Node{Kind: yaml.MappingNode}
	for _, lang := range languagesOf(e) {
		if list := e.Questions[lang]; len(list) > 0 {
			seq := &yaml.Node{Kind: yaml.SequenceNode}
			for _, q := range list {
				seq.Content = append(seq.Content, str(q))
			}
			qs.Content = append(qs.Content, str(lang), seq)
		}
		if a := e.Answer[lang]; a != "" {
			as.Content = append(as.Content, str(lang), str(a))
		}
	}
	add("questions", qs)
	add("answer", as)
	return m
}

// languagesOf lists an entry's languages, those of domain.FAQLanguages first.
func languagesOf(e *Entry) []string {
	langs := slices.Clone(domain.FAQLanguages)
	var more []string
	for l := range e.Questions {
		if !slices.Contains(langs, l) && !slices.Contains(more, l) {
			more = append(more, l)
		}
	}
	for l := range e.Answer {
		if !slices.Contains(langs, l) && !slices.Contains(more, l) {
			more = append(more, l)
		}
	}
	slices.Sort(more)
	return append(langs, more...)
}
