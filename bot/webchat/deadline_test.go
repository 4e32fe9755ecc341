package webchat_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/webchat"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store"
)

// The tests below run the real http.Server in a synctest bubble, on fake time, over
// in-memory connections, with an in-memory store and engine.

// pipeListener hands the server in-memory connections.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}
func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080} }

func (l *pipeListener) dial() net.Conn {
	srv, cli := net.Pipe()
	l.conns <- srv
	return cli
}

// memStore is the web chat's store in memory.
type memStore struct {
	mu      sync.Mutex
	known   map[string]bool
	replies map[string][]bot.Reply // by conversation; a reply's cursor is its index + 1
	seen    map[string]int64
	subs    []chan string
}

func newMemStore() *memStore {
	return &memStore{known: map[string]bool{}, replies: map[string][]bot.Reply{}, seen: map[string]int64{}}
}

func (m *memStore) Register(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.known[id] = true
	return nil
}

func (m *memStore) Known(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.known[id], nil
}

func (m *memStore) Push(_ context.Context, id string, r bot.Reply) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.replies[id] = append(m.replies[id], r)
	for _, s := range m.subs {
		select {
		case s <- id:
		default:
		}
	}
	return nil
}

func (m *memStore) Pending(_ context.Context, id string, cursor int64, max int) ([]bot.Reply, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cursor < 0 {
		cursor = m.seen[id]
	}
	rs := m.replies[id][cursor:]
	rs = rs[:min(len(rs), max)]
	return rs, cursor + int64(len(rs)), nil
}

func (m *memStore) Delivered(_ context.Context, id string, cursor int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seen[id] = max(m.seen[id], cursor)
	return nil
}

func (m *memStore) PushOnce(ctx context.Context, id, once string, r bot.Reply) (bool, error) {
	return true, m.Push(ctx, id, r) // these tests push no broadcast twice
}

func (m *memStore) Pushes(ctx context.Context) (<-chan string, func() error, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := make(chan string, 16)
	m.subs = append(m.subs, ch)
	return ch, func() error { return nil }, nil
}

// memEngine answers "ok" and takes photos everywhere, counting what it handled.
type memEngine struct {
	mu      sync.Mutex
	handled []bot.Message
}

func (e *memEngine) Handle(_ context.Context, m bot.Message) (bot.Outcome, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.handled = append(e.handled, m)
	return bot.Outcome{Replies: []bot.Reply{{Text: "ok"}}, To: bot.Recipient{Channel: m.Channel, ChatID: m.ChatID}}, nil
}

func (e *memEngine) Accepts(context.Context, bot.Message) (bool, error) { return true, nil }

func (e *memEngine) Recall(context.Context, bot.Message) (bot.Session, error) {
	return bot.Session{}, nil
}

func (e *memEngine) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.handled)
}

// bubbleServer runs the web chat behind an http.Server with the given server-wide
// timeouts, inside the current bubble; stop ends it.
func bubbleServer(t *testing.T, readTimeout, writeTimeout time.Duration) (ln *pipeListener, st *memStore, eng *memEngine, media *store.Media, stop func()) {
	t.Helper()
	texts, err := locales.Load("", map[string]any{"Region": "Kabupaten Contoh"})
	if err != nil {
		t.Fatal(err)
	}
	st, eng = newMemStore(), &memEngine{}
	s, err := webchat.NewServer(eng, st, texts, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	media, err = store.NewMedia(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s.AcceptPhotos(media)
	st.Register(context.Background(), webchat.ChatID("token-1"))
	mux := http.NewServeMux()
	s.Register(mux)
	ctx, cancel := context.WithCancel(context.Background())
	go s.Run(ctx)
	ln = &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
	srv := &http.Server{Handler: mux, ReadTimeout: readTimeout, WriteTimeout: writeTimeout}
	go srv.Serve(ln)
	<-s.Ready()
	return ln, st, eng, media, func() { cancel(); srv.Close() }
}

// readStatus reads the status of the answer on conn, or 0 when the connection was
// closed without one.
func readStatus(conn net.Conn) int {
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

func TestASlowBodyIsCut(t *testing.T) {
	t.Run("a chat message whose body trickles in is cut and not handled", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ln, _, eng, _, stop := bubbleServer(t, 0, 0) // no server-wide timeouts: the handler's own
			defer stop()
			conn := ln.dial()
			defer conn.Close()
			io.WriteString(conn, "POST /api/chat HTTP/1.1\r\nHost: layan\r\nX-Chat-Token: token-1\r\nContent-Length: 40\r\n\r\n{\"text\":")
			status := make(chan int, 1)
			go func() { status <- readStatus(conn) }()
			time.Sleep(webchat.BodyTimeout + time.Second)
			synctest.Wait()
			select {
			case got := <-status:
				if got != http.StatusRequestTimeout {
					t.Errorf("status %d, want 408", got)
				}
			default:
				t.Fatalf("a body unfinished after %v is still being waited for", webchat.BodyTimeout+time.Second)
			}
			if eng.count() != 0 {
				t.Error("the cut message was handled")
			}
		})
	})

	t.Run("a photo that trickles in is cut and nothing is kept", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ln, _, eng, media, stop := bubbleServer(t, 0, 0)
			defer stop()
			conn := ln.dial()
			defer conn.Close()
			io.WriteString(conn, "POST /api/chat/upload?id=p HTTP/1.1\r\nHost: layan\r\nX-Chat-Token: token-1\r\nContent-Length: 100000\r\n\r\n")
			status := make(chan int, 1)
			go func() { status <- readStatus(conn) }()
			photo := pngPhoto(t)
			conn.Write(photo[:20])
			// A slow phone gets far more than a chat message's time.
			time.Sleep(webchat.BodyTimeout * 3)
			synctest.Wait()
			select {
			case <-status:
				t.Fatalf("a photo still arriving was cut after %v", webchat.BodyTimeout*3)
			default:
			}
			time.Sleep(webchat.UploadTimeout)
			synctest.Wait()
			select {
			case got := <-status:
				if got != http.StatusRequestTimeout {
					t.Errorf("status %d, want 408", got)
				}
			default:
				t.Fatalf("a photo unfinished after %v is still being waited for", webchat.UploadTimeout+webchat.BodyTimeout*3)
			}
			if eng.count() != 0 || media.Used() != 0 {
				t.Errorf("the cut photo was handled (%d) or kept (%d bytes)", eng.count(), media.Used())
			}
		})
	})
}

func TestALiveStreamOutlivesTheServersTimeouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln, st, _, _, stop := bubbleServer(t, time.Minute, 2*time.Minute)
		defer stop()
		conn := ln.dial()
		defer conn.Close()
		io.WriteString(conn, "GET /api/chat/inbox HTTP/1.1\r\nHost: layan\r\nX-Chat-Token: token-1\r\nAccept: text/event-stream\r\n\r\n")
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("stream: %v %v", res, err)
		}
		events := make(chan string, 64)
		go func() {
			defer close(events)
			sc := bufio.NewScanner(res.Body)
			for sc.Scan() {
				if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
					events <- data
				}
			}
		}()
		time.Sleep(10 * time.Minute) // past both the server's read and write timeouts
		synctest.Wait()
		st.Push(context.Background(), webchat.ChatID("token-1"), bot.Reply{Text: "Pengumuman"})
		synctest.Wait()
		select {
		case data, ok := <-events:
			if !ok || !strings.Contains(data, "Pengumuman") {
				t.Errorf("after ten quiet minutes the stream gave %q (open: %v), want the reply", data, ok)
			}
		default:
			t.Error("a reply pushed after ten quiet minutes did not arrive")
		}
	})
}
