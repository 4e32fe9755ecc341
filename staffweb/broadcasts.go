package staffweb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/layan-id/layan/domain"
)

// Broadcasts is the broadcast store (*store.Broadcasts).
type Broadcasts interface {
	Create(ctx context.Context, bc *domain.Broadcast) (string, error)
	Get(ctx context.Context, id string) (*domain.Broadcast, error)
	List(ctx context.Context) ([]*domain.Broadcast, error)
	Update(ctx context.Context, id string, f func(*domain.Broadcast) error) (*domain.Broadcast, error)
	Runs(ctx context.Context, broadcast string, max int) ([]domain.Run, error)
}

// BroadcastsConfig enables the broadcast pages.
type BroadcastsConfig struct {
	Store Broadcasts
	// NextRun says when a broadcast runs next, zero for never (*broadcast.Service).
	NextRun  func(bc *domain.Broadcast) time.Time
	Topics   []string // the topics people subscribe to
	Channels []string // the channels this service runs
}

func (s *Server) registerBroadcasts(mux *http.ServeMux) {
	if s.cfg.Broadcasts == nil {
		return
	}
	mux.HandleFunc("GET /staff/broadcasts", s.page(domain.PermRead, s.broadcastList))
	mux.HandleFunc("GET /staff/broadcasts/new", s.page(domain.PermBroadcasts, s.composePage))
	mux.HandleFunc("POST /staff/broadcasts", s.form(domain.PermBroadcasts, s.createBroadcast))
	mux.HandleFunc("GET /staff/broadcasts/{id}", s.page(domain.PermRead, s.broadcastPage))
	mux.HandleFunc("GET /staff/broadcasts/{id}/runs", s.file(domain.PermRead, s.broadcastRuns))
	mux.HandleFunc("POST /staff/broadcasts/{id}/schedule", s.form(domain.PermBroadcasts, s.reschedule))
	mux.HandleFunc("POST /staff/broadcasts/{id}/{action}", s.form(domain.PermBroadcasts, s.broadcastAction))
}

// broadcastRow is a broadcast as the pages show it.
type broadcastRow struct {
	B        *domain.Broadcast
	When     string // the schedule in words
	Next     string // the next run, "" for none
	Topics   string
	Channels string
	Tip      bool
	Runs     []domain.Run
	Live     bool // a run is being delivered: the page follows it
}

func (s *Server) row(ctx context.Context, v *visit, bc *domain.Broadcast, runs int) (broadcastRow, error) {
	cfg := s.cfg.Broadcasts
	r := broadcastRow{B: bc, When: s.describe(v.T, bc), Tip: bc.Kind == domain.TipOfTheDay}
	if cfg.NextRun != nil && bc.State == domain.BroadcastActive {
		// A time already run (a single one that went out) is no next run.
		if next := cfg.NextRun(bc); !next.IsZero() && next.After(bc.LastFire) {
			r.Next = v.T.Date(next)
		}
	}
	var names []string
	for _, t := range bc.Topics {
		names = append(names, v.T.Topic(t))
	}
	r.Topics = strings.Join(names, ", ")
	names = nil
	for _, c := range bc.Channels {
		names = append(names, v.T.Channel(c))
	}
	if len(names) == 0 {
		names = []string{v.T.S("workspace.broadcast.all_channels")}
	}
	r.Channels = strings.Join(names, ", ")
	if runs > 0 {
		var err error
		if r.Runs, err = cfg.Store.Runs(ctx, bc.ID, runs); err != nil {
			return r, err
		}
		for _, run := range r.Runs {
			r.Live = r.Live || run.State == domain.RunDelivering
		}
		r.Live = r.Live || bc.State == domain.BroadcastActive && bc.At != nil && len(r.Runs) == 0
	}
	return r, nil
}

func (s *Server) broadcastList(w http.ResponseWriter, r *http.Request, v *visit) {
	all, err := s.cfg.Broadcasts.Store.List(r.Context())
	if err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	var rows []broadcastRow
	for _, bc := range all {
		row, err := s.row(r.Context(), v, bc, 1)
		if err != nil {
			s.unavailable(w, r, v, err)
			return
		}
		rows = append(rows, row)
	}
	// The tip of the day first, then the newest.
	slices.SortStableFunc(rows, func(a, b broadcastRow) int {
		if a.Tip != b.Tip {
			if a.Tip {
				return -1
			}
			return 1
		}
		return b.B.CreatedAt.Compare(a.B.CreatedAt)
	})
	s.render(w, r, v, http.StatusOK, "broadcasts", rows)
}

// composeData is the form to write a broadcast, as filled in so far.
type composeData struct {
	Topics, Channels []string // what exists
	F                composeForm
	Problems         []string // text keys
	Review           bool     // the form is complete: shown back before it is sent
	When             string   // the schedule in words
	Weekdays         []weekday
}

type weekday struct {
	N    int
	Name string
}

// composeForm is what staff filled in.
type composeForm struct {
	Topics, Channels []string
	TextID, TextEN   string
	When             string // now, at, repeat
	At               string // 2026-12-01T06:00
	Repeat           string // daily, weekdays, weekly
	Day              int    // 0 Sunday … 6 Saturday, for weekly
	Time             string // 06:00
	Until            string // 2026-12-31, optional
}

func (s *Server) composePage(w http.ResponseWriter, r *http.Request, v *visit) {
	s.renderCompose(w, r, v, http.StatusOK, composeForm{When: "now", Repeat: "daily", Day: 1, Time: "06:00"}, nil, false)
}

func (s *Server) renderCompose(w http.ResponseWriter, r *http.Request, v *visit, status int, f composeForm, problems []string, review bool) {
	cfg := s.cfg.Broadcasts
	cd := composeData{Topics: cfg.Topics, Channels: cfg.Channels, F: f, Problems: problems, Review: review, Weekdays: weekdays(v.T)}
	if review {
		bc, _ := s.broadcastOf(f, v)
		cd.When = s.describe(v.T, bc)
	}
	s.render(w, r, v, status, "broadcast_new", cd)
}

// weekdays are the days of the week in t's language, Monday first, as a week is
// read in the region.
func weekdays(t tr) []weekday {
	var out []weekday
	days := strings.Split(t.S("schedule.days"), ",") // Sunday first, as time.Weekday
	for n := range 7 {
		d := (n + 1) % 7
		name := strconv.Itoa(d)
		if len(days) == 7 {
			name = strings.TrimSpace(days[d])
		}
		out = append(out, weekday{N: d, Name: name})
	}
	return out
}

func readCompose(form url.Values) composeForm {
	f := composeForm{Topics: form["topics"], Channels: form["channels"], TextID: strings.TrimSpace(form.Get("text_id")),
		TextEN: strings.TrimSpace(form.Get("text_en")), When: form.Get("when"), At: form.Get("at"), Repeat: form.Get("repeat"),
		Time: form.Get("time"), Until: form.Get("until")}
	f.Day, _ = strconv.Atoi(form.Get("day"))
	// Windows browsers send CRLF; the chat platforms want LF.
	f.TextID = strings.ReplaceAll(f.TextID, "\r\n", "\n")
	f.TextEN = strings.ReplaceAll(f.TextEN, "\r\n", "\n")
	return f
}

// broadcastOf reads a filled-in form and checks it by the domain's rules for a new
// broadcast (domain.BroadcastRules), and returns the broadcast it describes, or
// every problem (text keys) that keeps it from being one.
func (s *Server) broadcastOf(f composeForm, v *visit) (*domain.Broadcast, []string) {
	cfg := s.cfg.Broadcasts
	now := s.now()
	var problems []string
	add := func(err error) {
		if p := (*domain.BroadcastProblem)(nil); errors.As(err, &p) {
			problems = append(problems, "workspace.broadcast.problem."+string(p.Reason))
		}
	}
	rules := domain.BroadcastRules{Topics: cfg.Topics, Channels: cfg.Channels}
	add(rules.CheckTopics(f.Topics))
	add(rules.CheckChannels(f.Channels))
	bc := &domain.Broadcast{Topics: f.Topics, Channels: f.Channels, Text: map[string]string{"id": f.TextID},
		State: domain.BroadcastActive, CreatedAt: now, CreatedBy: v.acc.Name}
	if f.TextEN != "" {
		bc.Text["en"] = f.TextEN // none: English subscribers get the Indonesian text
	}
	add(domain.CheckBroadcastTexts(bc.Text))
	read := true // the time as typed could be read
	switch f.When {
	case "now":
		bc.At = &now
	case "at":
		at, err := time.ParseInLocation("2006-01-02T15:04", f.At, s.loc)
		if err != nil {
			problems, read = append(problems, "workspace.broadcast.problem.at"), false
		}
		bc.At = &at
	case "repeat":
		cron, problem := repeatCron(f)
		if problem != "" {
			problems, read = append(problems, problem), false
		}
		bc.Cron = cron
		if f.Until != "" {
			until, err := time.ParseInLocation("2006-01-02", f.Until, s.loc)
			if err != nil {
				problems, read = append(problems, "workspace.broadcast.problem.until"), false
			}
			end := until.AddDate(0, 0, 1).Add(-time.Second) // through that whole day
			bc.End = &end
		}
	default:
		problems, read = append(problems, "workspace.broadcast.problem.when"), false
	}
	if read {
		add(domain.CheckBroadcastTiming(bc.At, bc.Cron, bc.End, now))
	}
	return bc, problems
}

// repeatCron is the schedule of a repeat chosen in words (every day, every weekday,
// every week on a day, at a time), or the text key of what is wrong with it.
func repeatCron(f composeForm) (cron, problem string) {
	hm, err := time.Parse("15:04", f.Time)
	days := map[string]string{"daily": "*", "weekdays": "1-5"}[f.Repeat]
	if f.Repeat == "weekly" && f.Day >= 0 && f.Day <= 6 {
		days = strconv.Itoa(f.Day)
	}
	switch {
	case err != nil:
		return "", "workspace.broadcast.problem.time"
	case days == "":
		return "", "workspace.broadcast.problem.repeat"
	}
	return fmt.Sprintf("%d %d * * %s", hm.Minute(), hm.Hour(), days), ""
}

// repeatOf is a schedule as the repeat form shows it: a time and every day, every
// weekday or one day a week (another schedule shows as every day at its time).
func repeatOf(cron string) composeForm {
	f := composeForm{When: "repeat", Repeat: "daily", Day: 1, Time: "07:00"}
	fields := strings.Fields(cron)
	if len(fields) != 5 {
		return f
	}
	if m, err1 := strconv.Atoi(fields[0]); err1 == nil {
		if h, err2 := strconv.Atoi(fields[1]); err2 == nil {
			f.Time = fmt.Sprintf("%02d:%02d", h, m)
		}
	}
	switch d, err := strconv.Atoi(fields[4]); {
	case fields[4] == "1-5":
		f.Repeat = "weekdays"
	case err == nil && d >= 0 && d <= 6:
		f.Repeat, f.Day = "weekly", d
	}
	return f
}

// createBroadcast shows a complete form back in words (step "review"), and creates
// the broadcast once staff confirm it (step "send"). An incomplete form comes back
// with what is missing (400).
func (s *Server) createBroadcast(w http.ResponseWriter, r *http.Request, v *visit) {
	f := readCompose(r.PostForm)
	bc, problems := s.broadcastOf(f, v)
	if problems != nil {
		s.renderCompose(w, r, v, http.StatusBadRequest, f, problems, false)
		return
	}
	switch r.PostForm.Get("step") {
	case "edit":
		s.renderCompose(w, r, v, http.StatusOK, f, nil, false)
		return
	case "send":
	default:
		s.renderCompose(w, r, v, http.StatusOK, f, nil, true)
		return
	}
	id, err := s.cfg.Broadcasts.Store.Create(r.Context(), bc)
	if err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	s.log.InfoContext(r.Context(), "staff workspace: broadcast scheduled", "broadcast", id, "by", v.acc.Name, "topics", bc.Topics)
	http.Redirect(w, r, "/staff/broadcasts/"+url.PathEscape(id), http.StatusSeeOther)
}

// broadcastData is one broadcast's page.
type broadcastData struct {
	R       broadcastRow
	Actions []string // pause, resume, cancel: what the state allows
	Confirm string   // the action waiting for confirmation
	Flash   string   // a text key
	Problem string   // a text key: why the new schedule was refused
	// Repeat is the schedule as the form to change it shows it, when staff may
	// change it (a repeated broadcast, active or paused).
	Repeat   *composeForm
	Weekdays []weekday
}

func (s *Server) loadBroadcast(w http.ResponseWriter, r *http.Request, v *visit) *domain.Broadcast {
	bc, err := s.cfg.Broadcasts.Store.Get(r.Context(), r.PathValue("id"))
	if !s.found(w, r, v, err) {
		return nil
	}
	return bc
}

func (s *Server) broadcastPage(w http.ResponseWriter, r *http.Request, v *visit) {
	bc := s.loadBroadcast(w, r, v)
	if bc == nil {
		return
	}
	s.showBroadcast(w, r, v, bc, http.StatusOK, "", doneFlash(r, "workspace.broadcast.done.", "pause", "resume", "cancel", "schedule"))
}

func (s *Server) showBroadcast(w http.ResponseWriter, r *http.Request, v *visit, bc *domain.Broadcast, status int, confirm, flash string) {
	row, err := s.row(r.Context(), v, bc, 20)
	if err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	d := broadcastData{R: row, Confirm: confirm, Flash: flash}
	if strings.HasPrefix(flash, "workspace.broadcast.problem.") {
		d.Flash, d.Problem = "", flash
	}
	if v.acc.Role.Can(domain.PermBroadcasts) {
		for _, a := range []string{"pause", "resume", "cancel"} {
			if broadcastAllows(a, bc, row.Live) {
				d.Actions = append(d.Actions, a)
			}
		}
		if probe := *bc; probe.Reschedule(bc.Cron, v.acc.Name, s.now()) == nil {
			f := repeatOf(bc.Cron)
			d.Repeat, d.Weekdays = &f, weekdays(v.T)
		}
	}
	s.render(w, r, v, status, "broadcast", d)
}

// broadcastAllows says whether action may be taken on bc now (domain's
// Broadcast.Apply, on a copy); delivering says whether its last run is going out.
func broadcastAllows(action string, bc *domain.Broadcast, delivering bool) bool {
	probe := *bc
	return probe.Apply(domain.BroadcastAction(action), delivering) == nil
}

// broadcastRuns is the table of a broadcast's runs, for the page to follow their
// progress live.
func (s *Server) broadcastRuns(w http.ResponseWriter, r *http.Request, v *visit) {
	bc := s.loadBroadcast(w, r, v)
	if bc == nil {
		return
	}
	row, err := s.row(r.Context(), v, bc, 20)
	if err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	s.fragment(w, r, v, "broadcast", "runs", broadcastData{R: row})
}

// broadcastAction pauses, resumes or cancels a broadcast once staff confirm it: the
// first press shows what will happen and asks again.
func (s *Server) broadcastAction(w http.ResponseWriter, r *http.Request, v *visit) {
	action := r.PathValue("action")
	if !domain.BroadcastAction(action).Valid() {
		s.notFound(w, r, v)
		return
	}
	bc := s.loadBroadcast(w, r, v)
	if bc == nil {
		return
	}
	ctx := r.Context()
	runs, err := s.cfg.Broadcasts.Store.Runs(ctx, bc.ID, 1)
	if err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	delivering := len(runs) > 0 && runs[0].State == domain.RunDelivering
	if !broadcastAllows(action, bc, delivering) {
		s.showBroadcast(w, r, v, bc, http.StatusConflict, "", "workspace.broadcast.problem.state")
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		s.showBroadcast(w, r, v, bc, http.StatusOK, action, "")
		return
	}
	_, err = s.cfg.Broadcasts.Store.Update(ctx, bc.ID, func(b *domain.Broadcast) error {
		return b.Apply(domain.BroadcastAction(action), delivering)
	})
	switch {
	case errors.Is(err, domain.ErrBroadcastState):
		s.showBroadcast(w, r, v, bc, http.StatusConflict, "", "workspace.broadcast.problem.state")
		return
	case !s.found(w, r, v, err):
		return
	}
	s.log.InfoContext(ctx, "staff workspace: broadcast "+action, "broadcast", bc.ID, "by", v.acc.Name)
	done(w, r, "/staff/broadcasts/"+url.PathEscape(bc.ID), action)
}

// reschedule gives a repeated broadcast (the tip of the day among them) a new time,
// chosen in words like a new one's; it is kept in the store, so it outlives a
// restart (and TIP_SCHEDULE).
func (s *Server) reschedule(w http.ResponseWriter, r *http.Request, v *visit) {
	bc := s.loadBroadcast(w, r, v)
	if bc == nil {
		return
	}
	cron, problem := repeatCron(readCompose(r.PostForm))
	if problem != "" {
		s.showBroadcast(w, r, v, bc, http.StatusBadRequest, "", problem)
		return
	}
	_, err := s.cfg.Broadcasts.Store.Update(r.Context(), bc.ID, func(b *domain.Broadcast) error {
		return b.Reschedule(cron, v.acc.Name, s.now())
	})
	var stateErr *domain.BroadcastStateError
	switch {
	case errors.As(err, &stateErr), errors.Is(err, domain.ErrNotRepeated):
		s.showBroadcast(w, r, v, bc, http.StatusConflict, "", "workspace.broadcast.problem.state")
		return
	case !s.found(w, r, v, err):
		return
	}
	v.detail = "schedule=" + cron
	s.log.InfoContext(r.Context(), "staff workspace: broadcast rescheduled", "broadcast", bc.ID, "by", v.acc.Name, "cron", cron)
	done(w, r, "/staff/broadcasts/"+url.PathEscape(bc.ID), "schedule")
}

// describe says when a broadcast runs, in words (domain.Broadcast.Timing, as the
// catalog puts it): never raw cron.
func (s *Server) describe(t tr, bc *domain.Broadcast) string {
	if bc == nil {
		return ""
	}
	words, _ := t.texts.Schedule(t.Lang, bc.Timing(s.loc, s.now()))
	return words
}
