package admin

import (
	"cmp"
	"context"
	"errors"
	"net/http"
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

// validBroadcast reads a request into a broadcast checked by the domain's rules
// (domain.BroadcastRules); the problem names the field at fault.
func (s *Server) validBroadcast(req broadcastRequest) (*domain.Broadcast, string) {
	now := s.now()
	bc := &domain.Broadcast{Topics: req.Topics, Channels: req.Channels, Text: req.Text, Cron: req.Cron,
		State: domain.BroadcastActive, CreatedAt: now, CreatedBy: cmp.Or(strings.TrimSpace(req.By), "admin-api")}
	if req.At != "" {
		at, err := time.Parse(time.RFC3339, req.At)
		if err != nil {
			return nil, `"at": not an RFC 3339 time such as 2026-11-29T06:00:00+07:00`
		}
		bc.At = &at
	}
	if req.End != "" {
		end, err := time.Parse(time.RFC3339, req.End)
		if err != nil {
			return nil, `"end": not an RFC 3339 time`
		}
		bc.End = &end
	}
	rules := domain.BroadcastRules{Topics: s.broadcasts.Topics, Channels: s.broadcasts.Channels}
	if err := rules.Check(bc, now); err != nil {
		return nil, err.Error()
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

// broadcastAction pauses, resumes or cancels a broadcast.
func (s *Server) broadcastAction(w http.ResponseWriter, r *http.Request) {
	action := domain.BroadcastAction(r.PathValue("action"))
	if !action.Valid() {
		httpjson.Error(w, http.StatusNotFound, "unknown action: use pause, resume or cancel")
		return
	}
	delivering := false // a finished broadcast may be stopped only while its last run goes out
	if runs, err := s.broadcasts.Store.Runs(r.Context(), r.PathValue("id"), 1); err == nil && len(runs) > 0 {
		delivering = runs[0].State == domain.RunDelivering
	}
	bc, err := s.broadcasts.Store.Update(r.Context(), r.PathValue("id"), func(bc *domain.Broadcast) error {
		return bc.Apply(action, delivering)
	})
	var refused *domain.BroadcastStateError
	switch {
	case errors.Is(err, domain.ErrNotFound):
		httpjson.Error(w, http.StatusNotFound, "broadcast not found")
	case errors.As(err, &refused):
		httpjson.Error(w, http.StatusConflict, refused.Error())
	case err != nil:
		httpjson.Error(w, http.StatusServiceUnavailable, "the store does not answer")
	default:
		s.log.Info("broadcast "+string(action), "broadcast", bc.ID)
		v, _ := s.view(r.Context(), bc)
		httpjson.Write(w, http.StatusOK, v)
	}
}
