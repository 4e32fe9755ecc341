package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/layan-id/layan/flows/faq"
	"github.com/layan-id/layan/locales"
)

// An entry published through the staff API is in `layan faq export DIR`, with the
// content's entries, in files the loader reads back alike.
func TestTheFAQExportCommandWritesTheWholeBase(t *testing.T) {
	token := randomHex(t) + randomHex(t)
	vars := map[string]string{"DATA_DIR": t.TempDir(), "HTTP_ADDR": freeAddr(t), "ADMIN_TOKEN": token}
	stop := startServe(t, vars)
	body := `{"questions":{"id":["syarat ikut seleksi cpns"]},"answer":{"id":"Pendaftaran CPNS lewat portal SSCASN milik BKN."}}`
	req, _ := http.NewRequest("PUT", "http://"+vars["HTTP_ADDR"]+"/api/admin/faq/entries/cpns-daftar", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	stop()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("publish: %d", res.StatusCode)
	}
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"faq", "export", dir}, env(vars), nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	got, err := faq.LoadKB(os.DirFS(dir), ".")
	if err != nil {
		t.Fatalf("the export does not load: %v", err)
	}
	base, err := faq.Load(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]faq.Entry{}
	for _, e := range got {
		byID[e.ID] = e
	}
	added, ok := byID["cpns-daftar"]
	if len(got) != len(base.Entries())+1 || !ok || faq.FileOf(&added) != faq.StaffFile || added.Answer["id"] != "Pendaftaran CPNS lewat portal SSCASN milik BKN." {
		t.Fatalf("exported %d entries (want %d), the new one %+v; %s", len(got), len(base.Entries())+1, added, out.String())
	}
	for _, e := range base.Entries() {
		g := byID[e.ID]
		if !reflect.DeepEqual(g.Domain(), e.Domain()) || faq.FileOf(&g) != faq.FileOf(&e) {
			t.Errorf("entry %s changed in the export", e.ID)
		}
	}
}
