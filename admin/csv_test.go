package admin_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store/storetest"
)

// looksLikeFormula reports whether a spreadsheet would run field as a formula: it
// starts, after spaces (and a stray quote character, which a spreadsheet that
// splits on the other separator takes as text), with = + - @, a tab or a carriage
// return, and is not a plain number.
func looksLikeFormula(field string) bool {
	f := strings.TrimLeft(field, ` "`)
	if f == "" || !strings.ContainsRune("=+-@\t\r", rune(f[0])) {
		return false
	}
	_, err := strconv.ParseFloat(strings.TrimRight(f, ` "`), 64)
	return err != nil
}

// naiveFields splits an export as a spreadsheet that ignores the quotes does: rows
// at every line break, cells at every sep.
func naiveFields(body []byte, sep string) []string {
	var out []string
	for _, line := range strings.Split(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n") {
		out = append(out, strings.Split(line, sep)...)
	}
	return out
}

func TestNoCellOfTheExportRunsAsAFormulaWhicheverSeparatorASpreadsheetUses(t *testing.T) {
	cases := []struct {
		name, text, want string
	}{
		{"a formula at the start", "=HYPERLINK(\"http://x.test\",\"klik\")", "'=HYPERLINK(\"http://x.test\",\"klik\")"},
		{"a formula after a comma", "jalan rusak,=1+1", "jalan rusak,'=1+1"},
		{"a formula after a comma and a space", "jalan rusak, =cmd|' /C calc'!A0", "jalan rusak, '=cmd|' /C calc'!A0"},
		{"a formula after a semicolon", "sampah; @SUM(A1:A9)", "sampah; '@SUM(A1:A9)"},
		{"a plus after a semicolon", "hubungi;+62 812 0000", "hubungi;'+62 812 0000"},
		{"a minus after a comma", "suhu,-2+3", "suhu,'-2+3"},
		{"a formula after leading spaces", "   =1+1", "   '=1+1"},
		{"a tab at the start", "\t=1+1", "'\t=1+1"},
		{"a tab after a comma", "a,\t=1+1", "a,'\t=1+1"},
		{"a formula on a new line", "baris satu\n=1+1", "baris satu\n'=1+1"},
		{"every one of several", "=a,=b;=c", "'=a,'=b;'=c"},
		{"plain text with commas and semicolons stays as it is", "jalan rusak, parah; tolong", "jalan rusak, parah; tolong"},
		{"a dash inside a word stays as it is", "anak-anak, 2-3 orang", "anak-anak, 2-3 orang"},
	}
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := newFixture(t, b, token)
		byID := map[string]int{}
		for i, tc := range cases {
			c := complaint(now.Add(-time.Duration(i+1)*time.Minute), tc.text)
			c.Address = tc.text
			c = f.file(t, c, domain.StatusRejected)
			// The rejection's reason is the row's last note.
			c2, err := f.cs.Update(t.Context(), c.ID, func(c *domain.Complaint) error {
				c.History[len(c.History)-1].Note = tc.text
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			byID[c2.ID] = i
		}
		for _, sep := range []struct {
			query string
			comma rune
		}{{"", ','}, {"?sep=semicolon", ';'}} {
			res := f.staff(t, "GET", "/api/admin/complaints.csv"+sep.query, "")
			if res.status != http.StatusOK {
				t.Fatalf("= %d %s", res.status, res.body)
			}
			records := readCSV(t, res, sep.comma)
			for _, rec := range records[1:] {
				i, ok := byID[rec[0]]
				if !ok {
					continue
				}
				tc := cases[i]
				t.Run(string(sep.comma)+" export: "+tc.name, func(t *testing.T) {
					for _, col := range []int{3, 4, 13} { // description, address, last_note
						if rec[col] != tc.want {
							t.Errorf("%s = %q, want %q", header[col], rec[col], tc.want)
						}
					}
				})
			}
			body := bytes.TrimPrefix(res.body, []byte("\xEF\xBB\xBF"))
			for _, other := range []string{",", ";"} {
				t.Run(string(sep.comma)+" export opened as if separated by "+other, func(t *testing.T) {
					for _, field := range naiveFields(body, other) {
						if looksLikeFormula(field) {
							t.Errorf("a spreadsheet would run %q", field)
						}
					}
				})
			}
		}
	})
}
