package admin

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/layan-id/layan/bot/httpjson"
	"github.com/layan-id/layan/domain"
)

// exportBatch is how many complaints the export reads from the store at a time.
const exportBatch = 200

// csvHeader names the export's columns.
var csvHeader = []string{
	"id", "status", "category", "description", "address", "latitude", "longitude", "photos",
	"confidential", "channel", "created_at", "updated_at", "rating", "last_note", "agency", "due", "overdue",
}

// startCSV starts a CSV download named name.csv for a spreadsheet: UTF-8 with a byte
// order mark (so Excel reads Indonesian text right) and CRLF line ends.
func startCSV(w http.ResponseWriter, name string) *csv.Writer {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.csv"`, name))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte("\uFEFF"))
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return cw
}

// csvTime is how the export writes a moment, in the region's time zone.
const csvTime = "2006-01-02 15:04"

// exportCSV writes every complaint, newest first, as CSV for a spreadsheet: UTF-8
// with a byte order mark (so Excel reads Indonesian text right), CRLF line ends,
// fields quoted where needed. ?sep=semicolon uses ";" between fields, for a
// spreadsheet whose regional settings (Indonesian among them) expect it.
//
// The export pages through the store while it writes; a complaint filed meanwhile
// may or may not be in it, and none is written twice. A store failure before the
// first row is a 503; after it the download is cut off, never passed off as complete.
func (s *Server) exportCSV(w http.ResponseWriter, r *http.Request) {
	comma := ','
	switch r.URL.Query().Get("sep") {
	case "", "comma", ",":
	case "semicolon", ";":
		comma = ';'
	default:
		httpjson.Error(w, http.StatusBadRequest, `sep must be "comma" or "semicolon"`)
		return
	}
	ctx := r.Context()
	q := domain.InboxQuery{Agency: scope(account(r)), Page: 1, Size: exportBatch}
	res, err := s.complaints.Inbox(ctx, q, s.now())
	batch, total := res.Complaints, res.Total
	if err != nil {
		s.unavailable(w, r, err)
		return
	}

	cw := startCSV(w, "complaints-"+s.now().In(s.loc).Format("20060102"))
	cw.Comma = comma
	cw.Write(csvHeader)
	seen := make(map[string]bool)
	for page := 1; ; page++ {
		for _, c := range batch {
			if seen[c.ID] {
				continue // moved to a later page by complaints filed meanwhile
			}
			seen[c.ID] = true
			cw.Write(s.csvRow(c))
		}
		if int64(page)*exportBatch >= total {
			break
		}
		q.Page = page + 1
		res, err = s.complaints.Inbox(ctx, q, s.now())
		if batch, total = res.Complaints, res.Total; err != nil {
			s.log.ErrorContext(ctx, "admin API: CSV export cut off", "rows", len(seen), "err", err)
			cw.Flush()
			panic(http.ErrAbortHandler) // the client sees a broken download, not a short file
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		s.log.WarnContext(ctx, "admin API: CSV export not delivered", "err", err)
	}
}

// csvRow is one complaint's row. A confidential complaint's row leaves the channel
// empty: the export travels further than the API.
func (s *Server) csvRow(c *domain.Complaint) []string {
	var lat, lon, rating string
	if c.Location != nil {
		lat = strconv.FormatFloat(c.Location.Lat, 'f', -1, 64)
		lon = strconv.FormatFloat(c.Location.Lon, 'f', -1, 64)
	}
	if c.Rating > 0 {
		rating = strconv.Itoa(c.Rating)
	}
	channel := c.Reporter.Channel
	if c.Confidential {
		channel = ""
	}
	return []string{
		textCell(c.ID), textCell(string(c.Status)), textCell(c.Category), textCell(c.Description),
		textCell(c.Address), lat, lon, strconv.Itoa(len(c.Photos)), strconv.FormatBool(c.Confidential),
		textCell(channel), s.csvTime(c.CreatedAt), s.csvTime(c.UpdatedAt), rating, textCell(lastNote(c)),
		textCell(c.Agency), s.csvTime(c.Due), strconv.FormatBool(c.Overdue(s.now())),
	}
}

func (s *Server) csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(s.loc).Format(csvTime)
}

// lastNote is the most recent note in the complaint's history: the reason of a
// rejection, what was done to finish it.
func lastNote(c *domain.Complaint) string {
	for i := len(c.History) - 1; i >= 0; i-- {
		if c.History[i].Note != "" {
			return c.History[i].Note
		}
	}
	return ""
}

// textCell defuses text that a spreadsheet would run as a formula (CSV injection): a
// cell that starts with = + - @, a tab or a carriage return, also after spaces, gets a
// single quote before that character, which spreadsheets show as text. The same is
// done after every "," and ";" and line break inside the cell: a spreadsheet that
// splits the file on the other separator (or at line breaks) ignores the quotes
// around the cell and would start a new cell there. Numbers the export writes itself
// (a negative latitude) do not pass through here.
func textCell(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	atStart := true // at the start of a cell as some spreadsheet may split the text
	for _, r := range s {
		if atStart {
			switch {
			case r == '\t' || r == '\r' || strings.ContainsRune(formulaStart, r):
				b.WriteByte('\'')
				atStart = false
			case !unicode.IsSpace(r) || r == '\n':
				atStart = false
			}
		}
		b.WriteRune(r)
		if r == ',' || r == ';' || r == '\n' {
			atStart = true
		}
	}
	return b.String()
}

// formulaStart are the characters with which a spreadsheet cell becomes a formula.
const formulaStart = "=+-@"
