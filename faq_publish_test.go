package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/domain"
)

// TestAnEntryPublishedOnOneProcessIsAnsweredByAnother runs two Layan processes on
// one real Redis: an admin publishes a new entry through process A's staff API, and
// a citizen's web chat question to process B gets its answer soon after, with no
// restart (B follows the knowledge base's version in Redis).
func TestAnEntryPublishedOnOneProcessIsAnsweredByAnother(t *testing.T) {
	url := os.Getenv("LAYAN_TEST_REDIS_URL")
	if url == "" {
		t.Skip("needs LAYAN_TEST_REDIS_URL (CI sets it)")
	}
	bin := buildLayan(t)
	token := randomHex(t) + randomHex(t)
	env := []string{"REDIS_URL=" + url, "REDIS_PREFIX=kbpub" + randomHex(t) + ":", "ADMIN_TOKEN=" + token,
		"WEBCHAT_LIMITS=new=20/min,burst=30,messages=100/s"} // asked again and again until answered
	a := startChild(t, bin, append(env, "DATA_DIR="+t.TempDir()))
	t.Cleanup(a.kill)
	b := startChild(t, bin, append(env, "DATA_DIR="+t.TempDir()))
	t.Cleanup(b.kill)

	const question = "syarat ikut seleksi cpns apa aja"
	n := 0
	ask := func(chat string) (string, string) {
		n++
		tok, replies, err := b.chat(chat, "kb-"+strconv.Itoa(n), question)
		if err != nil {
			t.Fatal(err)
		}
		return tok, strings.Join(replies, "\n")
	}
	chat, before := ask("")
	if strings.Contains(before, "SSCASN") {
		t.Fatalf("process B answers before anything was published: %q", before)
	}
	entry := domain.FAQEntry{
		Questions: map[string][]string{"id": {"syarat ikut seleksi cpns", "bagaimana cara daftar cpns"}},
		Answer:    map[string]string{"id": "Pendaftaran CPNS lewat portal SSCASN milik BKN."},
	}
	var change domain.FAQChange
	if status, err := a.staff(token, "PUT", "/api/admin/faq/entries/cpns-daftar", entry, &change); err != nil || status != 200 {
		t.Fatalf("publish on process A: %d %v; output:\n%s", status, err, a.out.String())
	}
	var got string
	waitFor(t, 15*time.Second, "process B to answer with the entry published on A", func() bool {
		_, got = ask(chat)
		return strings.Contains(got, "SSCASN")
	})
}
