package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows/faq"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store"
)

const faqUsage = `usage:
  layan faq [--kb FILE]   read one question per line on stdin, write one JSON verdict per line
  layan faq unanswered    list the questions the FAQ could not answer, most frequent first
  layan faq export DIR    write the whole knowledge base (the files and the staff's entries) to DIR/*.yaml`

// faqCommand measures the matcher or shows staff what it could not answer.
func faqCommand(ctx context.Context, cfg config, log *slog.Logger, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "unanswered" {
		return faqUnanswered(ctx, cfg, log, stdout)
	}
	if len(args) > 0 && args[0] == "export" {
		if len(args) != 2 {
			return errors.New(faqUsage)
		}
		return faqExport(ctx, cfg, log, args[1], stdout)
	}
	fl := flag.NewFlagSet("faq", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	kb := fl.String("kb", "", "a knowledge base file (YAML); default: the project's content")
	if err := fl.Parse(args); err != nil || fl.NArg() > 0 {
		return errors.New(faqUsage)
	}
	m, err := loadMatcher(cfg, *kb)
	if err != nil {
		return err
	}
	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 64<<10), 1<<20)
	out := bufio.NewWriter(stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		if strings.TrimSpace(in.Text()) == "" {
			continue // blank lines are skipped (README)
		}
		if err := enc.Encode(m.Match(in.Text())); err != nil {
			return fmt.Errorf("write verdict: %w", err)
		}
	}
	if err := in.Err(); err != nil {
		return fmt.Errorf("read questions: %w", err)
	}
	return out.Flush()
}

// loadMatcher builds the matcher from the content, or from one knowledge base file
// with the content's lexicon.
func loadMatcher(cfg config, kbFile string) (*faq.Matcher, error) {
	content := locales.Content(cfg.ContentDir)
	if kbFile == "" {
		return faq.Load(content)
	}
	data, err := os.ReadFile(kbFile)
	if err != nil {
		return nil, fmt.Errorf("read knowledge base: %w", err)
	}
	entries, err := faq.ParseKB(filepath.Base(kbFile), data)
	if err != nil {
		return nil, err
	}
	if err := faq.CheckIDs(entries); err != nil {
		return nil, err
	}
	lexicon, err := fs.ReadFile(content, "lexicon.yaml")
	if err != nil {
		return nil, fmt.Errorf("read lexicon: %w", err)
	}
	lx, err := faq.ParseLexicon("lexicon.yaml", lexicon)
	if err != nil {
		return nil, err
	}
	return faq.NewMatcher(entries, lx), nil
}

func faqUnanswered(ctx context.Context, cfg config, log *slog.Logger, stdout io.Writer) error {
	return withStore(ctx, cfg, log, "", func(st *store.Store, _ *store.Embedded) error {
		top, err := st.FAQStats().TopUnanswered(ctx, 50)
		if err != nil {
			return err
		}
		if len(top) == 0 {
			fmt.Fprintln(stdout, "no unanswered questions yet")
			return nil
		}
		for _, c := range top {
			fmt.Fprintf(stdout, "%6d  %s\n", c.Count, c.Question)
		}
		return nil
	})
}

// faqExport writes the knowledge base as people are answered now (the content's
// files under the entries staff published, from the store) to dir, one YAML file
// per file of the content and faq.StaffFile for the entries staff added; files of
// other names in dir are left alone.
func faqExport(ctx context.Context, cfg config, log *slog.Logger, dir string, stdout io.Writer) error {
	m, err := faq.Load(locales.Content(cfg.ContentDir))
	if err != nil {
		return err
	}
	var edits []domain.FAQEntry
	var version int64
	err = withStore(ctx, cfg, log, "", func(st *store.Store, _ *store.Embedded) error {
		edits, version, err = st.FAQBase().Entries(ctx)
		return err
	})
	if err != nil {
		return err
	}
	live := faq.NewLive(m)
	live.Apply(version, edits)
	files, err := faq.Export(live.Matcher().Entries())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	fmt.Fprintf(stdout, "%d entries (%d from staff) in %d files in %s\n", len(live.Matcher().Entries()), len(edits), len(files), dir)
	return nil
}
