package domain

import (
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// FAQEntry is one question-and-answer of the knowledge base as staff write it: its
// phrasings and its answer per language ("id" is required, "en" optional) and tags.
type FAQEntry struct {
	ID        string              `json:"id"`
	Questions map[string][]string `json:"questions"`
	Answer    map[string]string   `json:"answer"`
	Tags      []string            `json:"tags,omitempty"`
}

// FAQChange is one published change of an entry: who, when, what changed (Fields,
// in FAQEntry.Changes' terms) and the entry before (nil when it was new) and after.
type FAQChange struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	ID     string    `json:"id"`
	Fields []string  `json:"fields"`
	Before *FAQEntry `json:"before,omitempty"`
	After  FAQEntry  `json:"after"`
}

// FAQLanguages are the languages an entry is written in, the first required.
var FAQLanguages = []string{"id", "en"}

// Limits of an entry written by staff.
const (
	MaxFAQQuestions = 30   // phrasings per language
	MaxFAQQuestion  = 300  // characters of one phrasing
	MaxFAQAnswer    = 3000 // characters of one answer
	MaxFAQTags      = 10
)

// Problems of an entry (FAQProblem.Reason), each a text of its own for staff.
const (
	FAQBadID       = "id"       // not 2–60 of a-z, 0-9 and -
	FAQNoQuestion  = "question" // no Indonesian phrasing
	FAQNoAnswer    = "answer"   // no Indonesian answer
	FAQTooLong     = "too_long" // a phrasing or an answer beyond the limits
	FAQTooMany     = "too_many" // too many phrasings or tags
	FAQBadTag      = "tag"      // a tag not of a-z, 0-9 and -
	FAQUnknownLang = "lang"     // a language other than FAQLanguages
)

// FAQProblem is why an entry cannot be published.
type FAQProblem struct{ Reason string }

func (p *FAQProblem) Error() string { return "faq entry: " + p.Reason }

// ErrFAQEntry matches every *FAQProblem.
var ErrFAQEntry = errors.New("faq entry")

func (p *FAQProblem) Is(target error) bool { return target == ErrFAQEntry }

var (
	faqSlug = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,59}$`)
	faqTag  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)
)

// Clean trims every text, drops empty phrasings, answers and tags and lower-cases
// the id and tags; Check then judges what is left.
func (e FAQEntry) Clean() FAQEntry {
	out := FAQEntry{ID: strings.ToLower(strings.TrimSpace(e.ID)), Questions: map[string][]string{}, Answer: map[string]string{}}
	for lang, qs := range e.Questions {
		for _, q := range qs {
			if q = strings.Join(strings.Fields(q), " "); q != "" {
				out.Questions[lang] = append(out.Questions[lang], q)
			}
		}
	}
	for lang, a := range e.Answer {
		if a = strings.TrimSpace(strings.ReplaceAll(a, "\r\n", "\n")); a != "" {
			out.Answer[lang] = a
		}
	}
	for _, t := range e.Tags {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" && !slices.Contains(out.Tags, t) {
			out.Tags = append(out.Tags, t)
		}
	}
	return out
}

// Check reports the first problem that keeps a (cleaned) entry from being
// published, nil for none.
func (e FAQEntry) Check() error {
	problem := func(r string) error { return &FAQProblem{Reason: r} }
	switch {
	case !faqSlug.MatchString(e.ID):
		return problem(FAQBadID)
	case len(e.Questions["id"]) == 0:
		return problem(FAQNoQuestion)
	case strings.TrimSpace(e.Answer["id"]) == "":
		return problem(FAQNoAnswer)
	case len(e.Tags) > MaxFAQTags:
		return problem(FAQTooMany)
	}
	for _, t := range e.Tags {
		if !faqTag.MatchString(t) {
			return problem(FAQBadTag)
		}
	}
	for lang, qs := range e.Questions {
		if !slices.Contains(FAQLanguages, lang) {
			return problem(FAQUnknownLang)
		}
		if len(qs) > MaxFAQQuestions {
			return problem(FAQTooMany)
		}
		for _, q := range qs {
			if utf8.RuneCountInString(q) > MaxFAQQuestion {
				return problem(FAQTooLong)
			}
		}
	}
	for lang, a := range e.Answer {
		if !slices.Contains(FAQLanguages, lang) {
			return problem(FAQUnknownLang)
		}
		if utf8.RuneCountInString(a) > MaxFAQAnswer {
			return problem(FAQTooLong)
		}
	}
	return nil
}

// Changes names what differs between before (nil: a new entry, everything) and e:
// "questions.id", "questions.en", "answer.id", "answer.en", "tags", in that order.
func (e FAQEntry) Changes(before *FAQEntry) []string {
	var out []string
	var was FAQEntry
	if before != nil {
		was = *before
	}
	for _, lang := range FAQLanguages {
		if before == nil && len(e.Questions[lang]) > 0 || before != nil && !slices.Equal(was.Questions[lang], e.Questions[lang]) {
			out = append(out, "questions."+lang)
		}
	}
	for _, lang := range FAQLanguages {
		if before == nil && e.Answer[lang] != "" || before != nil && was.Answer[lang] != e.Answer[lang] {
			out = append(out, "answer."+lang)
		}
	}
	if before == nil && len(e.Tags) > 0 || before != nil && !slices.Equal(was.Tags, e.Tags) {
		out = append(out, "tags")
	}
	return out
}

// Clone returns a deep copy.
func (e FAQEntry) Clone() FAQEntry {
	out := FAQEntry{ID: e.ID, Questions: map[string][]string{}, Answer: maps.Clone(e.Answer), Tags: slices.Clone(e.Tags)}
	for lang, qs := range e.Questions {
		out.Questions[lang] = slices.Clone(qs)
	}
	if out.Answer == nil {
		out.Answer = map[string]string{}
	}
	return out
}

// FAQQuestion is a question the FAQ could not answer, how often it was asked and
// when last (zero when not known).
type FAQQuestion struct {
	Question string    `json:"question"`
	Count    int64     `json:"count"`
	Last     time.Time `json:"last,omitzero"`
}

// FAQListed is an entry of the knowledge base as it is now: the file it is kept in
// (and exported to) and whether staff added or changed it.
type FAQListed struct {
	FAQEntry
	File  string `json:"file"`
	Staff bool   `json:"staff"`
}

// Outcomes of a question (FAQTry.Outcome), as the FAQ answers a person.
const (
	FAQAnswered  = "answered"  // the answer at once
	FAQSuggested = "suggested" // "Maksud Anda …?" with one or more entries
	FAQNone      = "none"      // no answer, perhaps naming the nearest entries
)

// FAQTry is what a person asking Question would get: the outcome, the entry answered
// and its answer, or the entries offered (their first phrasings).
type FAQTry struct {
	Question string   `json:"question"`
	Outcome  string   `json:"outcome"`
	ID       string   `json:"id,omitempty"`
	Answer   string   `json:"answer,omitempty"`
	Score    float64  `json:"score"`
	Offered  []string `json:"offered,omitempty"`
	OfferIDs []string `json:"offered_ids,omitempty"`
}

// FAQUnanswered is a question the FAQ could not answer and what the knowledge base
// answers to it now (Now.Outcome is FAQAnswered once an entry answers it).
type FAQUnanswered struct {
	FAQQuestion
	Now FAQTry `json:"now"`
}
