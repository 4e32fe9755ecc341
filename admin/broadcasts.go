package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/layan-id/layan/bot/httpjson"
	"github.com/layan-id/layan/domain"
)

// Broadcasts is the broadcast store the API reads and changes (*store.Broadcasts).
type Broadcasts interface {
	Create(ctx context.Context, bc *domain.Broadcast) (string, error)
	Get(ctx context.Context, id string) (*domain.Broadcast, error)
	List(ctx context.Context) ([]*domain.Broadcast, error)
	Update(ctx context.Context, id string, f func(*domain.Broadcast) error) (*domain.Broadcast, error)
	Runs(ctx context.Context, broadcast string, max int) ([]domain.Run, error)
}

// Scheduler says when a broadcast runs next (*broadcast.Service).
type Scheduler interface {
	NextRun(bc *domain.Broadcast) time.Time
}

// DeliveryStatuses are the delivery statuses a platform reported for the messages of
// a broadcast run (*store.WhatsAppCloud: WhatsApp on the Cloud API): counts by status
// (sent, delivered, read, failed); none when it reported nothing.
type DeliveryStatuses interface {
	RunStatusesAt(ctx context.Context, broadcast string, fire time.Time) (map[string]int64, error)
}

// BroadcastConfig enables the broadcast routes.
type BroadcastConfig struct {
	Store     Broadcasts
	Scheduler Scheduler
	Topics    []string // the topics that exist
	Channels  []string // the channels that exist
	// WhatsAppStatuses adds to each run what WhatsApp reported of its messages; nil
	// when WhatsApp does not report statuses (whatsmeow, or no WhatsApp).
	WhatsAppStatuses DeliveryStatuses
}

// EnableBroadcasts adds the broadcast routes to the API (call before Register).
func (s *Server) EnableBroadcasts(cfg BroadcastConfig) { s.broadcasts = &cfg }

func (s *Server) registerBroadcasts(mux *http.ServeMux) {
	if s.broadcasts == nil {
		return
	}
	mux.HandleFunc("POST /api/admin/broadcasts", s.authorized(domain.PermBroadcasts, s.createBroadcast))
	mux.HandleFunc("GET /api/admin/broadcasts", s.authorized(domain.PermRead, s.listBroadcasts))
	mux.HandleFunc("GET /api/admin/broadcasts/{id}", s.authorized(domain.PermRead, s.getBroadcast))
	mux.HandleFunc("POST /api/admin/broadcasts/{id}/{action}", s.authorized(domain.PermBroadcasts, s.broadcastAction))
}

type broadcastRequest struct {
	Topics   []string          `json:"topics"`
	Channels []string          `json:"channels"`
	Text     map[string]string `json:"text"`
	At       string            `json:"at"`
	Cron     string            `json:"cron"`
	End      string            `json:"end"`
	By       string            `json:"by"`
}

// broadcastView is a broadcast as the API shows it: with its next run and its runs.
type broadcastView struct {
	*domain.Broadcast
	NextRun *time.Time `json:"next_run,omitempty"`
	Runs    []runView  `json:"runs"`
}

// runView is a run with what WhatsApp reported of its messages, when it did.
type runView struct {
	domain.Run
	WhatsApp *statusCounts `json:"whatsapp,omitempty"`
}

// statusCounts counts a run's messages by the last news the platform gave of each:
// accepted (sent), on the phone (delivered), opened (read), or not delivered (failed).
type statusCounts struct {
	Sent      int64 `json:"sent"`
	Delivered int64 `json:"delivered"`
	Read      int64 `json:"read"`
	Failed    int64 `json:"failed"`
}

// createBroadcast validates and stores a broadcast; every problem is a 400 that says
// which field is wrong.
func (s *Server) createBroadcast(w http.ResponseWriter, r *http.Request) {
	var req broadcastRequest
	if !readJSON(w, r, &req) {
		return
	}
	bc, problem := s.validBroadcast(req)
	if problem != "" {
		httpjson.Error(w, http.StatusBadRequest, problem)
		return
	}
	id, err := s.broadcasts.Store.Create(r.Context(), bc)
	if err != nil {
		s.log.Error("create broadcast", "err", err)
		httpjson.Error(w, http.StatusServiceUnavailable, "the store does not answer")
		return
	}
	s.log.Info("broadcast scheduled", "broadcast", id, "topics", bc.Topics)
	httpjson.Write(w, http.StatusCreated, map[string]string{"id": id})
}

func (s *Server) validBroadcast(req broadcastRequest) (*domain.Broadcast, string) {
	cfg := s.broadcasts
	now := s.now()
	if len(req.Topics) == 0 {
		return nil, `"topics": name at least one topic (` + strings.Join(cfg.Topics, ", ") + ")"
	}
	for i, t := range req.Topics {
		if !slices.Contains(cfg.Topics, t) {
			return nil, fmt.Sprintf(`"topics": unknown topic %q (known: %s)`, t, strings.Join(cfg.Topics, ", "))
		}
		if slices.Contains(req.Topics[:i], t) {
			return nil, fmt.Sprintf(`"topics": %q is named twice`, t)
		}
	}
	for _, c := range req.Channels {
		if !slices.Contains(cfg.Channels, c) {
			return nil, fmt.Sprintf(`"channels": unknown channel %q (known: %s)`, c, strings.Join(cfg.Channels, ", "))
		}
	}
	if strings.TrimSpace(req.Text["id"]) == "" {
		return nil, `"text": the Indonesian text ("id") is required and may not be empty`
	}
	for lang, t := range req.Text {
		if lang != "id" && lang != "en" {
			return nil, fmt.Sprintf(`"text": unknown language %q (use "id" and "en")`, lang)
		}
		if strings.TrimSpace(t) == "" {
			return nil, fmt.Sprintf(`"text": the %q text is empty`, lang)
		}
		if len([]rune(t)) > 4000 {
			return nil, fmt.Sprintf(`"text": the %q text is longer than 4,000 characters`, lang)
		}
	}
	bc := &domain.Broadcast{Topics: req.Topics, Channels: req.Channels, Text: req.Text, State: domain.BroadcastActive,
		CreatedAt: now, CreatedBy: cmp.Or(strings.TrimSpace(req.By), "admin-api")}
	switch {
	case req.At != "" && req.Cron != "":
		return nil, `give either "at" or "cron", not both`
	case req.At != "":
		at, err := time.Parse(time.RFC3339, req.At)
		if err != nil {
			return nil, `"at": not an RFC 3339 time such as 2026-11-29T06:00:00+07:00`
		}
		if at.Before(now.Add(-time.Minute)) {
			return nil, `"at": the time is in the past`
		}
		bc.At = &at
	case req.Cron != "":
		sched, err := domain.ParseSchedule(req.Cron)
		if err != nil {
			return nil, fmt.Sprintf(`"cron": not a schedule (%v); five fields: minute hour day month weekday, e.g. "0 6 * * 0"`, err)
		}
		if sched.Next(now).IsZero() {
			return nil, `"cron": the schedule never runs`
		}
		bc.Cron = req.Cron
	default:
		return nil, `one of "at" (a time) or "cron" (a schedule) is required`
	}
	if req.End != "" {
		end, err := time.Parse(time.RFC3339, req.End)
		if err != nil {
			return nil, `"end": not an RFC 3339 time`
		}
		if !end.After(now) {
			return nil, `"end": the end date is in the past`
		}
		bc.End = &end
	}
	return bc, ""
}

func (s *Server) view(ctx context.Context, bc *domain.Broadcast) (broadcastView, error) {
	v := broadcastView{Broadcast: bc}
	if next := s.broadcasts.Scheduler.NextRun(bc); !next.IsZero() {
		v.NextRun = &next
	}
	runs, err := s.broadcasts.Store.Runs(ctx, bc.ID, 20)
	if err != nil {
		return v, err
	}
	v.Runs = make([]runView, len(runs))
	for i, r := range runs {
		v.Runs[i].Run = r
		v.Runs[i].Fire = r.Fire.In(s.loc) // times in the region's zone, like next_run
		if st := s.broadcasts.WhatsAppStatuses; st != nil {
			counts, err := st.RunStatusesAt(ctx, r.Broadcast, r.Fire)
			if err != nil {
				return v, err
			}
			if len(counts) > 0 {
				v.Runs[i].WhatsApp = &statusCounts{Sent: counts["sent"], Delivered: counts["delivered"], Read: counts["read"], Failed: counts["failed"]}
			}
		}
	}
	if v.NextRun != nil {
		next := v.NextRun.In(s.loc)
		v.NextRun = &next
	}
	return v, nil
}

func (s *Server) listBroadcasts(w http.ResponseWriter, r *http.Request) {
	all, err := s.broadcasts.Store.List(r.Context())
	if err != nil {
		httpjson.Error(w, http.StatusServiceUnavailable, "the store does not answer")
		return
	}
	out := make([]broadcastView, 0, len(all))
	for _, bc := range all {
		v, err := s.view(r.Context(), bc)
		if err != nil {
			httpjson.Error(w, http.StatusServiceUnavailable, "the store does not answer")
			return
		}
		out = append(out, v)
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"broadcasts": out})
}

func (s *Server) getBroadcast(w http.ResponseWriter, r *http.Request) {
	bc, err := s.broadcasts.Store.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, domain.ErrNotFound) {
		httpjson.Error(w, http.StatusNotFound, "broadcast not found")
		return
	}
	if err != nil {
		httpjson.Error(w, http.StatusServiceUnavailable, "the store does not answer")
		return
	}
	v, err := s.view(r.Context(), bc)
	if err != nil {
		httpjson.Error(w, http.StatusServiceUnavailable, "the store does not answer")
		return
	}
	httpjson.Write(w, http.StatusOK, v)
}

// errState marks an action the broadcast's state does not allow.
var errState = errors.New("not allowed in this state")

// broadcastAction pauses, resumes or cancels a broadcast.
func (s *Server) broadcastAction(w http.ResponseWriter, r *http.Request) {
	action := r.PathValue("action")
	from := map[string][]domain.BroadcastState{
		// A finished broadcast may still be delivering its last run: that can be stopped.
		"pause":  {domain.BroadcastActive, domain.BroadcastFinished},
		"resume": {domain.BroadcastPaused},
		"cancel": {domain.BroadcastActive, domain.BroadcastPaused, domain.BroadcastFinished},
	}[action]
	to := map[string]domain.BroadcastState{"pause": domain.BroadcastPaused, "resume": domain.BroadcastActive, "cancel": domain.BroadcastCancelled}[action]
	if from == nil {
		httpjson.Error(w, http.StatusNotFound, "unknown action: use pause, resume or cancel")
		return
	}
	delivering := false // a finished broadcast may be stopped only while its last run goes out
	if runs, err := s.broadcasts.Store.Runs(r.Context(), r.PathValue("id"), 1); err == nil && len(runs) > 0 {
		delivering = runs[0].State == domain.RunDelivering
	}
	var was domain.BroadcastState
	bc, err := s.broadcasts.Store.Update(r.Context(), r.PathValue("id"), func(bc *domain.Broadcast) error {
		was = bc.State
		if !slices.Contains(from, bc.State) || bc.State == domain.BroadcastFinished && !delivering {
			return errState
		}
		bc.State = to
		return nil
	})
	switch {
	case errors.Is(err, domain.ErrNotFound):
		httpjson.Error(w, http.StatusNotFound, "broadcast not found")
	case errors.Is(err, errState):
		httpjson.Error(w, http.StatusConflict, fmt.Sprintf("cannot %s a broadcast that is %s", action, was))
	case err != nil:
		httpjson.Error(w, http.StatusServiceUnavailable, "the store does not answer")
	default:
		s.log.Info("broadcast "+action, "broadcast", bc.ID)
		v, _ := s.view(r.Context(), bc)
		httpjson.Write(w, http.StatusOK, v)
	}
}
