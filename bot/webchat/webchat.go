// Package webchat is Layan's web chat: a small chat page served from embedded files
// and the JSON chat API behind it, which other tools may also drive.
//
//	POST /api/chat        {"text": "...", "option": "<option id>", "id": "<client message id>",
//	                      "location": {"lat": -6.9, "lon": 109.7}}
//	                      header X-Chat-Token names the conversation; without it a new one
//	                      starts. Answer: {"token": "...", "replies": [{"text", "options"}]}
//	POST /api/chat/upload a photo as the raw body (?id=<client message id>), answered
//	                      like /api/chat
//	GET  /api/chat/inbox  replies pushed to the conversation since the last call, as
//	                      {"replies": [...]}; when Accept names text/event-stream a live
//	                      stream of such objects (server-sent events)
//
// The token is issued by the server (192 random bits) and is the only identity: the
// store keeps only its SHA-256, so a copy of the database cannot act as a person.
// Errors are JSON {"error": "..."} with a 4xx or 5xx status, and change nothing.
package webchat

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/layan-id/layan/bot"
)

// ChannelName is the name of the web chat in bot.Message.Channel.
const ChannelName = "webchat"

// MaxBody is the largest request body the chat API reads.
const MaxBody = 16 << 10

// Store is what the web chat keeps: known conversations and their inboxes.
type Store interface {
	Register(ctx context.Context, id string) error
	Known(ctx context.Context, id string) (bool, error)
	Push(ctx context.Context, id string, r bot.Reply) error
	// Pending reads up to max replies pushed after cursor, oldest first, without
	// removing them, and the cursor after them; a negative cursor starts after the
	// conversation's delivered mark. Delivered raises that mark to cursor (never
	// lowers it). Each live stream keeps its own cursor, so that two tabs each get
	// every reply once.
	Pending(ctx context.Context, id string, cursor int64, max int) ([]bot.Reply, int64, error)
	Delivered(ctx context.Context, id string, cursor int64) error
	// Pushes reports the ids of conversations that got a reply, from every replica.
	Pushes(ctx context.Context) (ids <-chan string, stop func() error, err error)
}

// Media keeps the photos people upload (*store.Media is one). A refused file's error
// wraps bot.ErrFileRefused.
type Media interface {
	Save(r io.Reader) (name, mime string, err error)
}

// Engine handles one message; *bot.Engine is one.
type Engine interface {
	Handle(ctx context.Context, m bot.Message) (bot.Outcome, error)
}

// Server serves the page and the chat API. Run must be running for live streams.
type Server struct {
	engine Engine
	store  Store
	media  Media // nil: uploads refused
	page   *page
	log    *slog.Logger
	hub    *hub
	// newChats limits new conversations per client address; messages limits the
	// messages of one conversation.
	newChats, messages, uploads *limiter
	// Heartbeat is how often an idle live stream sends a comment to stay open (and
	// looks for replies whose wake-up it missed).
	Heartbeat time.Duration
}

// MaxStreams is how many live streams one conversation may hold open in one process
// (a page open in two tabs).
const MaxStreams = 2

// NewServer returns the web chat server. texts renders the page's labels.
func NewServer(engine Engine, store Store, texts Texts, log *slog.Logger) (*Server, error) {
	p, err := newPage(texts)
	if err != nil {
		return nil, err
	}
	return &Server{engine: engine, store: store, page: p, log: log, hub: newHub(), Heartbeat: 25 * time.Second,
		newChats: newLimiter(rate.Every(3*time.Second), 30), // a school's computer room may start 30 at once
		messages: newLimiter(5, 20),                         // far above any person's typing
		uploads:  newLimiter(rate.Every(10*time.Second), 6), // photos: three per complaint, and retries
	}, nil
}

// Run wakes the live streams of this process when replies are pushed, over one
// subscription to the store, until ctx ends; then it ends every stream, so that a
// graceful shutdown does not wait for them.
func (s *Server) Run(ctx context.Context) error {
	defer s.hub.close()
	for ctx.Err() == nil {
		ids, stop, err := s.store.Pushes(ctx)
		if err != nil {
			s.log.WarnContext(ctx, "web chat: no live pushes; retrying", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
			continue
		}
		s.hub.ready()
		func() {
			defer stop()
			for {
				select {
				case <-ctx.Done():
					return
				case id, ok := <-ids:
					if !ok {
						return // the subscription broke: subscribe again
					}
					s.hub.wake(id)
				}
			}
		}()
	}
	return nil
}

// AcceptPhotos enables POST /api/chat/upload, keeping photos in m.
func (s *Server) AcceptPhotos(m Media) { s.media = m }

// Ready is closed once Run listens for pushes.
func (s *Server) Ready() <-chan struct{} { return s.hub.started }

// Register adds the web chat's routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.Handle("GET /{$}", http.HandlerFunc(s.page.serveIndex))
	mux.Handle("GET /static/", s.page.static())
	mux.HandleFunc("POST /api/chat", s.chat)
	mux.HandleFunc("GET /api/chat/inbox", s.inbox)
	mux.HandleFunc("POST /api/chat/upload", s.upload)
}

type chatRequest struct {
	Text     string        `json:"text"`
	Option   string        `json:"option"`
	ID       string        `json:"id"`
	Location *bot.Location `json:"location"` // {"lat": -6.9, "lon": 109.7}, shared by the page
}

type chatResponse struct {
	Token   string      `json:"token"`
	Replies []bot.Reply `json:"replies"`
	Lang    string      `json:"lang,omitempty"` // the person's language, for the page's labels
}

type inboxResponse struct {
	Replies []bot.Reply `json:"replies"`
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "request body is larger than 16 KiB")
			return
		}
		writeError(w, http.StatusBadRequest, "request body could not be read")
		return
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "request body is not one valid JSON object")
		return
	}
	if req.Text == "" && req.Option == "" && req.Location == nil {
		writeError(w, http.StatusBadRequest, `one of "text", "option" or "location" is required`)
		return
	}
	if len(req.ID) > 128 || len(req.Option) > 128 {
		writeError(w, http.StatusBadRequest, `"id" and "option" are at most 128 bytes`)
		return
	}

	token := r.Header.Get("X-Chat-Token")
	var id string
	if token == "" {
		if !s.newChats.allow(clientAddr(r)) {
			tooMany(w)
			return
		}
		token, id = newToken()
		if err := s.store.Register(r.Context(), id); err != nil {
			s.unavailable(w, r, err)
			return
		}
	} else if id = s.known(w, r, token); id == "" {
		return
	} else if !s.messages.allow(id) {
		tooMany(w)
		return
	}

	m := bot.Message{
		Channel: ChannelName, ChatID: id, UserID: id, ID: req.ID,
		Kind: bot.KindText, Text: req.Text, Option: req.Option, Time: time.Now(),
	}
	switch {
	case req.Location != nil:
		m.Kind, m.Location = bot.KindLocation, req.Location
	case req.Option != "":
		m.Kind = bot.KindOption
	}
	s.answer(w, r, token, m)
}

// answer hands a message to the engine and writes its replies.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, token string, m bot.Message) {
	out, err := s.engine.Handle(r.Context(), m)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, chatResponse{Token: token, Replies: nonNil(out.Replies), Lang: out.Lang})
}

// upload takes a photo (the raw body, at most 10 MB; its type judged by content) into
// an existing conversation: POST /api/chat/upload?id=<client message id> with
// X-Chat-Token. The answer is the same as /api/chat's. A refused file is not an HTTP
// error: the person gets a kind answer saying what is accepted.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	if s.media == nil {
		writeError(w, http.StatusNotFound, "uploads are not enabled")
		return
	}
	token := r.Header.Get("X-Chat-Token")
	id := s.known(w, r, token)
	if id == "" {
		return
	}
	if !s.uploads.allow(id) {
		tooMany(w)
		return
	}
	msgID := r.URL.Query().Get("id")
	if len(msgID) > 128 {
		writeError(w, http.StatusBadRequest, `"id" is at most 128 bytes`)
		return
	}
	m := bot.Message{Channel: ChannelName, ChatID: id, UserID: id, ID: msgID, Kind: bot.KindImage, Time: time.Now()}
	name, mime, err := s.media.Save(http.MaxBytesReader(w, r.Body, bot.MaxPhotoSize+1))
	switch {
	case errors.Is(err, bot.ErrFileRefused):
		m.Kind = bot.KindBadFile
	case err != nil:
		s.unavailable(w, r, err)
		return
	default:
		m.Media = &bot.Media{Ref: name, MIME: mime}
	}
	s.answer(w, r, token, m)
}

func (s *Server) inbox(w http.ResponseWriter, r *http.Request) {
	id := s.known(w, r, r.Header.Get("X-Chat-Token"))
	if id == "" {
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		s.stream(w, r, id)
		return
	}
	replies, cursor, err := s.store.Pending(r.Context(), id, fromDelivered, inboxBatch)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, inboxResponse{Replies: nonNil(replies)})
	if err := s.store.Delivered(context.WithoutCancel(r.Context()), id, cursor); err != nil {
		s.log.WarnContext(r.Context(), "web chat inbox: mark delivered", "err", err)
	}
}

// inboxBatch is how many pushed replies one answer or event carries at most.
const inboxBatch = 50

// fromDelivered is the cursor of a reader that starts after what was delivered.
const fromDelivered = -1

// stream sends pushed replies as server-sent events until the client goes away or the
// server shuts down. The stream keeps its own cursor, so every stream of a
// conversation (a page open in two tabs) gets every reply once. Each event carries
// the cursor as its id; a client that reconnects with it in Last-Event-ID resumes
// where it was, else the stream starts after what was delivered.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, id string) {
	ctx := r.Context()
	wake, leave, ok := s.hub.join(id, MaxStreams)
	if !ok {
		writeError(w, http.StatusTooManyRequests, "too many live streams for this conversation")
		return
	}
	defer leave()
	cursor := int64(fromDelivered)
	if last, err := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64); err == nil && last >= 0 {
		cursor = last
	}
	// Where the stream starts is fixed before it is answered: a reply pushed once the
	// client sees the answer is this stream's, whatever another tab does meanwhile.
	replies, next, err := s.store.Pending(ctx, id, cursor, inboxBatch)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	if len(replies) == 0 {
		cursor = next // where a stream from the delivered mark starts
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // a proxy must not hold events back
	w.WriteHeader(http.StatusOK)
	heartbeat := time.NewTicker(s.Heartbeat)
	defer heartbeat.Stop()
	for {
		if next != cursor {
			b, _ := json.Marshal(inboxResponse{Replies: nonNil(replies)})
			if _, err := fmt.Fprintf(w, "id: %d\ndata: %s\n\n", next, b); err != nil {
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
		if next != cursor {
			if err := s.store.Delivered(ctx, id, next); err != nil {
				s.log.WarnContext(ctx, "web chat stream: mark delivered", "err", err)
				return
			}
			cursor = next
			if len(replies) == inboxBatch {
				replies, next, err = s.store.Pending(ctx, id, cursor, inboxBatch)
				if err != nil {
					s.log.WarnContext(ctx, "web chat stream: read inbox", "err", err)
					return
				}
				continue // more waiting
			}
		}
		select {
		case <-ctx.Done():
			return
		case _, open := <-wake:
			if !open {
				return // shutting down
			}
		case <-heartbeat.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return
			}
		}
		replies, next, err = s.store.Pending(ctx, id, cursor, inboxBatch)
		if err != nil {
			s.log.WarnContext(ctx, "web chat stream: read inbox", "err", err)
			return
		}
	}
}

// known returns the conversation id of token, or writes an error and returns "".
func (s *Server) known(w http.ResponseWriter, r *http.Request, token string) string {
	if token == "" {
		writeError(w, http.StatusUnauthorized, "header X-Chat-Token is required")
		return ""
	}
	id := ChatID(token)
	ok, err := s.store.Known(r.Context(), id)
	if err != nil {
		s.unavailable(w, r, err)
		return ""
	}
	if !ok {
		writeError(w, http.StatusUnauthorized, "unknown conversation token: start a new conversation without it")
		return ""
	}
	return id
}

func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	s.log.ErrorContext(r.Context(), "web chat request failed", "path", r.URL.Path, "err", err)
	writeError(w, http.StatusServiceUnavailable, "the service is busy, please try again")
}

// newToken returns a new conversation token and its id.
func newToken() (token, id string) {
	b := make([]byte, 24)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, ChatID(token)
}

// ChatID is the conversation id of a token: what the store and the engine see.
func ChatID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:16])
}

func nonNil(r []bot.Reply) []bot.Reply {
	if r == nil {
		return []bot.Reply{}
	}
	return r
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
