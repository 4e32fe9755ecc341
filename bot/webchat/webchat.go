// Package webchat is Layan's web chat: a small chat page served from embedded files
// and the JSON chat API behind it, which other tools may also drive.
//
//	POST /api/chat        {"text": "...", "option": "<option id>", "id": "<client message id>",
//	                      "location": {"lat": -6.9, "lon": 109.7}}
//	                      header X-Chat-Token names the conversation; without it a new one
//	                      starts. Answer: {"token": "...", "replies": [{"text", "options"}]}
//	POST /api/chat/upload a photo as the raw body (?id=<client message id>), answered
//	                      like /api/chat; taken only where the conversation's step
//	                      takes photos
//	GET  /api/chat/history the conversation's recent messages, both sides, oldest first:
//	                      {"messages": [{"from", "text", "options", "at", "photo", "status"}], "lang": "id"}
//	GET  /api/chat/photo/{name} a photo said to this conversation (staff sent it)
//	GET  /api/chat/inbox  replies pushed to the conversation since the last call, as
//	                      {"replies": [...]}; when Accept names text/event-stream a live
//	                      stream of such objects (server-sent events)
//
// The token is issued by the server (192 random bits) and is the only identity: the
// store keeps only its SHA-256, so a copy of the database cannot act as a person.
// Errors are JSON {"error": "..."} with a 4xx or 5xx status, and change nothing.
//
// One client cannot take the server: rate limits (new conversations and photos per
// client address, messages and photos per conversation) are applied before a body is
// read, one address holds at most MaxPerAddress requests at once (live streams
// included), and every handler sets its own read and write deadlines through
// http.ResponseController, so a slow body is cut; a live stream clears them and gives
// each event EventTimeout to leave.
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
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/httpjson"
	"github.com/layan-id/layan/domain"
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
	// PushOnce is Push, dropping a reply whose name once the inbox already had.
	PushOnce(ctx context.Context, id, once string, r bot.Reply) (pushed bool, err error)
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
// wraps bot.ErrFileRefused, a photo past the quota's bot.ErrMediaFull; Full reports
// that before a photo is read.
type Media interface {
	Save(r io.Reader) (name, mime string, err error)
	Full() bool
}

// Engine handles one message, and tells whether the conversation's current step
// takes a photo; *bot.Engine is one.
type Engine interface {
	Handle(ctx context.Context, m bot.Message) (bot.Outcome, error)
	Accepts(ctx context.Context, m bot.Message) (bool, error)
	// Recall returns the conversation's session (language and recent history)
	// without changing it.
	Recall(ctx context.Context, m bot.Message) (bot.Session, error)
}

// Deadlines the handlers set on their connection, whatever the server's own.
const (
	BodyTimeout   = 10 * time.Second // to receive a chat message's body (16 KiB at most)
	UploadTimeout = 2 * time.Minute  // to receive a photo: 10 MB at about 700 kbit/s
	AnswerTimeout = 30 * time.Second // to write an answer, from when the body is in
	EventTimeout  = 30 * time.Second // for one live stream event or keep-alive to leave
)

// Server serves the page and the chat API. Run must be running for live streams.
type Server struct {
	engine Engine
	store  Store
	media  Media // nil: uploads refused
	page   *page
	log    *slog.Logger
	hub    *hub
	// newChats limits new conversations and addrUploads photos per client address;
	// messages and uploads limit the messages and photos of one conversation.
	newChats, messages, uploads, addrUploads *limit
	shared                                   SharedLimiter // nil: counted in this process
	// byAddr counts the requests in progress per client address; nil when the
	// per-address limits are lifted.
	byAddr *gate
	// Heartbeat is how often an idle live stream sends a comment to stay open (and
	// looks for replies whose wake-up it missed).
	Heartbeat time.Duration
	// MaxPerAddress is how many requests one client address may have in progress at
	// once, live streams included; default DefaultMaxPerAddress.
	MaxPerAddress int
}

// DefaultMaxPerAddress is how many requests one client address may have in progress
// at once: a school's computer room behind one address, each with the page open.
const DefaultMaxPerAddress = 64

// MaxStreams is how many live streams one conversation may hold open in one process
// (a page open in two tabs).
const MaxStreams = 2

// NewServer returns the web chat server. texts renders the page's labels.
func NewServer(engine Engine, store Store, texts bot.Texts, log *slog.Logger) (*Server, error) {
	p, err := newPage(texts)
	if err != nil {
		return nil, err
	}
	s := &Server{engine: engine, store: store, page: p, log: log, hub: newHub(), Heartbeat: 25 * time.Second,
		uploads:     newLimit("up", Rate{6, time.Minute}, 6),       // photos: three per complaint, and retries
		addrUploads: newLimit("addrup", Rate{30, time.Minute}, 30), // a computer room filing complaints together
		byAddr:      newGate(), MaxPerAddress: DefaultMaxPerAddress,
	}
	s.SetLimits(DefaultLimits(), nil)
	return s, nil
}

// SetLimits sets the rate limits (WEBCHAT_LIMITS; NewServer starts with
// DefaultLimits), counted in shared, for every replica at once, when it is not nil.
// Limits.Off lifts what is limited per client address: new conversations, photos and
// requests in progress, for a proxy in front that limits by itself, where every
// client has the proxy's address. The limits per conversation stay.
func (s *Server) SetLimits(l Limits, shared SharedLimiter) {
	s.newChats = newLimit("new", l.New, l.NewBurst)
	s.messages = newLimit("msg", l.Messages, messagesBurst)
	s.shared = shared
	if l.Off {
		s.byAddr = nil
	}
}

// AllowFraming sets who may show the page in a frame: the sources of the
// Content-Security-Policy frame-ancestors directive, as ParseFrameAncestors returns
// them; the default is 'self'.
func (s *Server) AllowFraming(sources string) { s.page.frameAncestors = sources }

// Run wakes the live streams of this process when replies are pushed, over one
// subscription to the store, until ctx ends; then it ends every stream, so that a
// graceful shutdown does not wait for them.
func (s *Server) Run(ctx context.Context) error {
	defer s.hub.close()
	pause := bot.Backoff(time.Second, 30*time.Second)
	for ctx.Err() == nil {
		ids, stop, err := s.store.Pushes(ctx)
		if err != nil {
			d := pause.NextBackOff()
			s.log.WarnContext(ctx, "web chat: no live pushes; retrying", "in", d, "err", err)
			bot.Sleep(ctx, d)
			continue
		}
		pause.Reset()
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
	mux.Handle("GET /{$}", s.guard(http.HandlerFunc(s.page.serveIndex)))
	mux.Handle("GET /static/", s.guard(s.page.static()))
	mux.Handle("POST /api/chat", s.guard(http.HandlerFunc(s.chat)))
	mux.Handle("GET /api/chat/inbox", s.guard(http.HandlerFunc(s.inbox)))
	mux.Handle("GET /api/chat/history", s.guard(http.HandlerFunc(s.history)))
	mux.Handle("GET /api/chat/photo/{name}", s.guard(http.HandlerFunc(s.photo)))
	mux.Handle("POST /api/chat/upload", s.guard(http.HandlerFunc(s.upload)))
}

// guard admits a request while its client address has fewer than MaxPerAddress in
// progress, and gives it default deadlines (a handler may set its own).
func (s *Server) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.byAddr != nil {
			leave, ok := s.byAddr.enter(clientAddr(r), s.MaxPerAddress)
			if !ok {
				tooMany(w)
				return
			}
			defer leave()
		}
		setDeadlines(w, BodyTimeout, BodyTimeout+AnswerTimeout)
		h.ServeHTTP(w, r)
	})
}

// setDeadlines sets the connection's read and write deadlines from now; 0 clears one.
// A ResponseWriter that cannot (a test's recorder) is left as it is.
func setDeadlines(w http.ResponseWriter, read, write time.Duration) {
	rc := http.NewResponseController(w)
	at := func(d time.Duration) time.Time {
		if d == 0 {
			return time.Time{}
		}
		return time.Now().Add(d)
	}
	rc.SetReadDeadline(at(read))
	rc.SetWriteDeadline(at(write))
}

// timedOut reports whether err is a read cut by its deadline.
func timedOut(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

type chatRequest struct {
	Text     string           `json:"text"`
	Option   string           `json:"option"`
	ID       string           `json:"id"`
	Location *domain.Location `json:"location"` // {"lat": -6.9, "lon": 109.7}, shared by the page
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
	// Who may send comes first: a refused request's body is never read.
	token := r.Header.Get("X-Chat-Token")
	var id string
	if token == "" {
		if s.byAddr != nil && !s.allow(r.Context(), s.newChats, clientAddr(r)) {
			tooMany(w)
			return
		}
	} else if id = s.known(w, r, token); id == "" {
		return
	} else if !s.allow(r.Context(), s.messages, id) {
		tooMany(w)
		return
	}

	var req chatRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			httpjson.Error(w, http.StatusRequestEntityTooLarge, "request body is larger than 16 KiB")
		case timedOut(err):
			httpjson.Error(w, http.StatusRequestTimeout, "request body was not received in time")
		default:
			httpjson.Error(w, http.StatusBadRequest, "request body could not be read")
		}
		return
	}
	setDeadlines(w, BodyTimeout, AnswerTimeout)
	if err := json.Unmarshal(body, &req); err != nil {
		httpjson.Error(w, http.StatusBadRequest, "request body is not one valid JSON object")
		return
	}
	if req.Text == "" && req.Option == "" && req.Location == nil {
		httpjson.Error(w, http.StatusBadRequest, `one of "text", "option" or "location" is required`)
		return
	}
	if len(req.ID) > 128 || len(req.Option) > 128 {
		httpjson.Error(w, http.StatusBadRequest, `"id" and "option" are at most 128 bytes`)
		return
	}

	if token == "" {
		token, id = newToken()
		if err := s.store.Register(r.Context(), id); err != nil {
			s.unavailable(w, r, err)
			return
		}
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
	m.Retryable = true // the page sends a message again when its answer was lost
	out, err := s.engine.Handle(r.Context(), m)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, chatResponse{Token: token, Replies: nonNil(out.Replies), Lang: out.Lang})
}

// upload takes a photo (the raw body, at most 10 MB; its type judged by content) into
// an existing conversation: POST /api/chat/upload?id=<client message id> with
// X-Chat-Token. The answer is the same as /api/chat's. A photo is read only when the
// conversation's step takes one (a complaint's photo step) and there is room for it;
// otherwise, and for a refused file, the person gets a kind answer in their language,
// not an HTTP error.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	if s.media == nil {
		httpjson.Error(w, http.StatusNotFound, "uploads are not enabled")
		return
	}
	token := r.Header.Get("X-Chat-Token")
	id := s.known(w, r, token)
	if id == "" {
		return
	}
	if !s.allow(r.Context(), s.uploads, id) || s.byAddr != nil && !s.allow(r.Context(), s.addrUploads, clientAddr(r)) {
		tooMany(w)
		return
	}
	msgID := r.URL.Query().Get("id")
	if len(msgID) > 128 {
		httpjson.Error(w, http.StatusBadRequest, `"id" is at most 128 bytes`)
		return
	}
	m := bot.Message{Channel: ChannelName, ChatID: id, UserID: id, ID: msgID, Kind: bot.KindImage, Time: time.Now()}
	takes, err := s.engine.Accepts(r.Context(), m)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	if !takes {
		s.answer(w, r, token, m) // without a photo: "photos only at the photo step"
		return
	}
	if s.media.Full() {
		s.log.ErrorContext(r.Context(), "web chat: photo refused, DATA_DIR/media is full (raise MEDIA_QUOTA or free space)")
		m.Kind = bot.KindMediaFull
		s.answer(w, r, token, m)
		return
	}
	setDeadlines(w, UploadTimeout, UploadTimeout+AnswerTimeout)
	name, mime, err := s.media.Save(http.MaxBytesReader(w, r.Body, bot.MaxPhotoSize+1))
	setDeadlines(w, BodyTimeout, AnswerTimeout)
	switch {
	case errors.Is(err, bot.ErrMediaFull):
		s.log.ErrorContext(r.Context(), "web chat: photo refused, DATA_DIR/media is full (raise MEDIA_QUOTA or free space)")
		m.Kind = bot.KindMediaFull
	case errors.Is(err, bot.ErrFileRefused):
		m.Kind = bot.KindBadFile
	case timedOut(err):
		httpjson.Error(w, http.StatusRequestTimeout, "the photo was not received in time")
		return
	case err != nil:
		s.unavailable(w, r, err)
		return
	default:
		m.Media = &bot.Media{Ref: name, MIME: mime}
	}
	s.answer(w, r, token, m)
}

type historyResponse struct {
	Messages []historyLine `json:"messages"`
	Lang     string        `json:"lang,omitempty"`
}

// historyLine is one message of the history: from "citizen" (the person), "bot" or
// "staff".
type historyLine struct {
	From    string       `json:"from"`
	Text    string       `json:"text"`
	Options []bot.Option `json:"options,omitempty"`
	At      time.Time    `json:"at"`
	// Photo is a photo shown with the message (one staff sent): its path,
	// GET /api/chat/photo/<name> with X-Chat-Token.
	Photo string `json:"photo,omitempty"`
	// Status is the conversation's state the message told (bot.Reply.Status).
	Status string `json:"status,omitempty"`
}

// history answers GET /api/chat/history with X-Chat-Token: the conversation's recent
// messages as the server keeps them (HISTORY_DAYS, the newest few), so that a page
// opened again shows them. It changes nothing.
func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	id := s.knownAndAllowed(w, r)
	if id == "" {
		return
	}
	setDeadlines(w, BodyTimeout, AnswerTimeout)
	sess, err := s.engine.Recall(r.Context(), bot.Message{Channel: ChannelName, ChatID: id, UserID: id})
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	out := historyResponse{Messages: []historyLine{}, Lang: sess.Lang}
	for _, l := range sess.History {
		hl := historyLine{From: l.From, Text: l.Text, Options: l.Options, At: l.At, Status: l.Status}
		if l.Media != "" && l.From != bot.FromCitizen {
			hl.Photo = PhotoPath + l.Media
		}
		out.Messages = append(out.Messages, hl)
	}
	httpjson.Write(w, http.StatusOK, out)
}

// PhotoPath is where the page reads a photo said to the person (a reply's
// Media.Ref is the name after it), with X-Chat-Token.
const PhotoPath = "/api/chat/photo/"

// photo answers GET /api/chat/photo/{name} with X-Chat-Token: a photo shown to this
// conversation (a photo staff sent), as the conversation's history names it. Any
// other name, a photo of another conversation included, is 404.
func (s *Server) photo(w http.ResponseWriter, r *http.Request) {
	id := s.knownAndAllowed(w, r)
	if id == "" {
		return
	}
	o, ok := s.media.(bot.MediaStore)
	name := r.PathValue("name")
	if !ok || name == "" {
		httpjson.Error(w, http.StatusNotFound, "no such photo")
		return
	}
	sess, err := s.engine.Recall(r.Context(), bot.Message{Channel: ChannelName, ChatID: id, UserID: id})
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	if !slices.ContainsFunc(sess.History, func(l bot.Line) bool { return l.Media == name && l.From != bot.FromCitizen }) {
		httpjson.Error(w, http.StatusNotFound, "no such photo")
		return
	}
	f, err := o.Open(name)
	if err != nil {
		httpjson.Error(w, http.StatusNotFound, "no such photo")
		return
	}
	defer f.Close()
	setDeadlines(w, BodyTimeout, UploadTimeout)
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		s.unavailable(w, r, err)
		return
	}
	w.Header().Set("Content-Type", http.DetectContentType(head[:n]))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, max-age=86400")
	io.Copy(w, f)
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
	setDeadlines(w, BodyTimeout, AnswerTimeout)
	replies, cursor, err := s.store.Pending(r.Context(), id, fromDelivered, inboxBatch)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, inboxResponse{Replies: nonNil(replies)})
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
		httpjson.Error(w, http.StatusTooManyRequests, "too many live streams for this conversation")
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
	// A live stream lasts: it clears the connection's deadlines (the server's too),
	// and gives each write its own.
	setDeadlines(w, 0, 0)
	rc := http.NewResponseController(w)
	write := func(b []byte) error {
		rc.SetWriteDeadline(time.Now().Add(EventTimeout))
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // a proxy must not hold events back
	w.WriteHeader(http.StatusOK)
	heartbeat := time.NewTicker(s.Heartbeat)
	defer heartbeat.Stop()
	if err := write(nil); err != nil { // the answer's head
		return
	}
	for {
		if next != cursor {
			b, _ := json.Marshal(inboxResponse{Replies: nonNil(replies)})
			if err := write(fmt.Appendf(nil, "id: %d\ndata: %s\n\n", next, b)); err != nil {
				return
			}
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
			if err := write([]byte(": keep-alive\n\n")); err != nil {
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
		httpjson.Error(w, http.StatusUnauthorized, "header X-Chat-Token is required")
		return ""
	}
	id := ChatID(token)
	ok, err := s.store.Known(r.Context(), id)
	if err != nil {
		s.unavailable(w, r, err)
		return ""
	}
	if !ok {
		httpjson.Error(w, http.StatusUnauthorized, "unknown conversation token: start a new conversation without it")
		return ""
	}
	return id
}

// knownAndAllowed is known for the request's X-Chat-Token, within the conversation's
// rate of requests (else 429); "" when the request was answered.
func (s *Server) knownAndAllowed(w http.ResponseWriter, r *http.Request) string {
	id := s.known(w, r, r.Header.Get("X-Chat-Token"))
	if id != "" && !s.allow(r.Context(), s.messages, id) {
		tooMany(w)
		return ""
	}
	return id
}

func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	s.log.ErrorContext(r.Context(), "web chat request failed", "path", r.URL.Path, "err", err)
	httpjson.Error(w, http.StatusServiceUnavailable, "the service is busy, please try again")
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
