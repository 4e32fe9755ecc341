package webchat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/layan-id/layan/bot/webchat"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// watchedBody is a request body that records whether the server read it.
type watchedBody struct {
	r    io.Reader
	read atomic.Bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	return b.r.Read(p)
}

// post sends body to path from the client address addr and decodes the answer.
func (h *harness) post(t testing.TB, path, token, addr string, body io.Reader) chatAnswer {
	t.Helper()
	req := httptest.NewRequest("POST", path, body)
	req.RemoteAddr = addr + ":40000"
	if token != "" {
		req.Header.Set("X-Chat-Token", token)
	}
	rec := httptest.NewRecorder()
	h.mux.ServeHTTP(rec, req)
	a := chatAnswer{Status: rec.Code}
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("POST %s: answer is not JSON: %v; body %q", path, err, rec.Body.String())
	}
	if rec.Code == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
		t.Errorf("POST %s: 429 without Retry-After", path)
	}
	return a
}

func TestRateLimitsComeBeforeTheBodyIsRead(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	t.Run("a flood of new conversations is refused without reading the bodies", func(t *testing.T) {
		refused := 0
		for range 40 {
			body := &watchedBody{r: strings.NewReader(`{"text":"halo"}`)}
			if a := h.post(t, "/api/chat", "", "198.51.100.7", body); a.Status == http.StatusTooManyRequests {
				refused++
				if body.read.Load() {
					t.Error("a refused new conversation's body was read")
				}
			}
		}
		if refused == 0 {
			t.Fatal("40 new conversations from one address in a moment were all accepted")
		}
	})
	t.Run("a conversation over its message limit is refused without reading the bodies", func(t *testing.T) {
		token := h.start(t)
		refused := 0
		for range 40 {
			body := &watchedBody{r: strings.NewReader(`{"text":"menu"}`)}
			if a := h.post(t, "/api/chat", token, "198.51.100.8", body); a.Status == http.StatusTooManyRequests {
				refused++
				if body.read.Load() {
					t.Error("a refused message's body was read")
				}
			}
		}
		if refused == 0 {
			t.Fatal("40 messages of one conversation in a moment were all accepted")
		}
	})
}

// pngPhoto is a small real PNG.
func pngPhoto(t testing.TB) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 16, 16))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withMedia lets the harness take photos into a fresh directory.
func (h *harness) withMedia(t testing.TB) (*store.Media, string) {
	t.Helper()
	dir := t.TempDir()
	m, err := store.NewMedia(dir)
	if err != nil {
		t.Fatal(err)
	}
	h.server.AcceptPhotos(m)
	return m, dir
}

// toPhotoStep walks a new conversation to the complaint's photo step.
func (h *harness) toPhotoStep(t testing.TB) string {
	t.Helper()
	token := h.start(t)
	h.send(t, token, map[string]string{"text": "lapor"})
	h.send(t, token, map[string]string{"option": "cat:jalan"})
	h.send(t, token, map[string]string{"text": "Lampu jalan di depan balai desa mati sejak seminggu"})
	if a := h.send(t, token, map[string]string{"option": "loc:skip"}); !a.says("Ada foto?") {
		t.Fatalf("after skipping the place: %q, want the photo step", a.texts())
	}
	return token
}

func files(t testing.TB, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func TestPhotosAreTakenOnlyWhereAFlowTakesThem(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	media, dir := h.withMedia(t)

	t.Run("a photo outside the photo step is not read, and the person is told where photos go", func(t *testing.T) {
		token := h.start(t)
		body := &watchedBody{r: bytes.NewReader(pngPhoto(t))}
		a := h.post(t, "/api/chat/upload?id=p-1", token, "198.51.100.20", body)
		if a.Status != http.StatusOK || !a.says("Maaf, foto hanya dapat saya terima pada langkah foto") {
			t.Errorf("status %d, replies %q; want 200 and a kind word on where photos go", a.Status, a.texts())
		}
		if body.read.Load() || files(t, dir) != 0 {
			t.Errorf("the photo was read (%v) or kept (%d files)", body.read.Load(), files(t, dir))
		}
	})

	t.Run("in English, the person is told in English", func(t *testing.T) {
		token := h.send(t, "", map[string]string{"option": "lang:en"}).Token
		a := h.post(t, "/api/chat/upload?id=p-1", token, "198.51.100.21", bytes.NewReader(pngPhoto(t)))
		if !a.says("Sorry, I can only take a photo at the photo step") {
			t.Errorf("replies %q, want the English text", a.texts())
		}
	})

	t.Run("at a complaint's photo step the photo is taken", func(t *testing.T) {
		token := h.toPhotoStep(t)
		a := h.post(t, "/api/chat/upload?id=p-2", token, "198.51.100.22", bytes.NewReader(pngPhoto(t)))
		if a.Status != http.StatusOK || !a.says("Foto 1 dari 3 sudah diterima") {
			t.Errorf("status %d, replies %q; want the photo received", a.Status, a.texts())
		}
		if files(t, dir) != 1 {
			t.Errorf("%d files kept, want the photo", files(t, dir))
		}
		a = h.post(t, "/api/chat/upload?id=p-3", token, "198.51.100.22", strings.NewReader("%PDF-1.4 bukan foto"))
		if !a.says("Maaf, berkas itu tidak dapat kami terima") {
			t.Errorf("a PDF at the photo step: %q, want the kind refusal", a.texts())
		}
	})

	t.Run("when the space for photos is full the person is told so and nothing is read", func(t *testing.T) {
		token := h.toPhotoStep(t)
		media.SetQuota(1) // already past it
		defer media.SetQuota(store.DefaultMediaQuota)
		body := &watchedBody{r: bytes.NewReader(pngPhoto(t))}
		a := h.post(t, "/api/chat/upload?id=p-4", token, "198.51.100.23", body)
		if a.Status != http.StatusOK || !a.says("Maaf, tempat penyimpanan foto kami sedang penuh") {
			t.Errorf("status %d, replies %q; want 200 and the kind word that storage is full", a.Status, a.texts())
		}
		if body.read.Load() {
			t.Error("the photo was read though there is no room for it")
		}
		media.SetQuota(store.DefaultMediaQuota)
		if a := h.post(t, "/api/chat/upload?id=p-5", token, "198.51.100.23", bytes.NewReader(pngPhoto(t))); !a.says("Foto 1 dari 3") {
			t.Errorf("with room again the photo step still takes the photo: %q", a.texts())
		}
	})
}

func TestPhotosAreCountedPerConversationAndPerAddress(t *testing.T) {
	for _, lifted := range []bool{false, true} {
		name := "from one address, conversations within their own limit are stopped together"
		if lifted {
			name = "with WEBCHAT_LIMITS=off only each conversation's own limit applies"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, storetest.Mini(t))
			h.withMedia(t)
			if lifted {
				off, _ := webchat.ParseLimits("off")
				h.server.SetLimits(off, nil)
			}
			refused := 0
			for range 6 { // six conversations, six photos each: each within its own limit
				token := h.start(t)
				for range 6 {
					if a := h.post(t, "/api/chat/upload", token, "203.0.113.5", bytes.NewReader(pngPhoto(t))); a.Status == http.StatusTooManyRequests {
						refused++
					}
				}
			}
			if lifted && refused != 0 {
				t.Errorf("%d photos refused with the address limits off, want none", refused)
			}
			if !lifted && refused == 0 {
				t.Error("36 photos from one address in a moment were all taken")
			}
			token := h.start(t)
			refused = 0
			for range 8 {
				if a := h.post(t, "/api/chat/upload", token, "203.0.113.99", bytes.NewReader(pngPhoto(t))); a.Status == http.StatusTooManyRequests {
					refused++
				}
			}
			if refused == 0 {
				t.Error("one conversation sent 8 photos in a moment, all taken")
			}
		})
	}
}

func TestOneAddressMayHoldOnlySoManyRequestsAtOnce(t *testing.T) {
	for _, lifted := range []bool{false, true} {
		name := "a fourth request from an address holding three is refused, others are served"
		if lifted {
			name = "with WEBCHAT_LIMITS=off a fourth request is served"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, storetest.Mini(t))
			h.server.MaxPerAddress = 3
			if lifted {
				off, _ := webchat.ParseLimits("off")
				h.server.SetLimits(off, nil)
			}
			srv := httptest.NewServer(h.mux) // its clients come from 127.0.0.1
			t.Cleanup(srv.Close)
			a, b := h.start(t), h.start(t) // from another address
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			openStream(t, ctx, srv.URL, a)
			openStream(t, ctx, srv.URL, a)
			closing, closeIt := context.WithCancel(ctx)
			defer closeIt()
			openStream(t, closing, srv.URL, b)

			page := func() int {
				res, err := http.Get(srv.URL + "/")
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			if got := page(); lifted && got != http.StatusOK || !lifted && got != http.StatusTooManyRequests {
				t.Fatalf("the page while the address holds three streams: %d", got)
			}
			if lifted {
				return
			}
			rec := httptest.NewRecorder()
			h.mux.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != http.StatusOK {
				t.Errorf("another address was refused the page: %d", rec.Code)
			}
			closeIt() // a tab is closed: its place is free again
			for page() != http.StatusOK {
				if ctx.Err() != nil {
					t.Fatal("a closed stream still counts against its address")
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

func TestTheChatPageMayBeFramedOnlyByAllowedSites(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	csp := func() string {
		rec := httptest.NewRecorder()
		h.mux.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		return rec.Header().Get("Content-Security-Policy")
	}
	if got := csp(); !strings.Contains(got, "frame-ancestors 'self'") {
		t.Errorf("by default the page's CSP is %q, want frame-ancestors 'self'", got)
	}
	sources, err := webchat.ParseFrameAncestors("'self', https://batangkab.go.id")
	if err != nil {
		t.Fatal(err)
	}
	h.server.AllowFraming(sources)
	if got := csp(); !strings.HasSuffix(got, "; frame-ancestors 'self' https://batangkab.go.id") {
		t.Errorf("with the regency's site allowed the CSP is %q", got)
	}
	for _, bad := range []string{"", "https://a.go.id; script-src *", "'none' 'self'", "javascript:alert(1)", "https://a.go.id/x", "'unsafe-inline'"} {
		if got, err := webchat.ParseFrameAncestors(bad); err == nil {
			t.Errorf("WEBCHAT_FRAME_ANCESTORS %q accepted as %q", bad, got)
		}
	}
}

// sharedLimits counts in the store, as serve does on a real Redis.
type sharedLimits struct{ rl *store.RateLimits }

func (l sharedLimits) Allow(ctx context.Context, key string, r webchat.Rate, burst int) (bool, error) {
	return l.rl.Allow(ctx, key, r.N, r.Per, burst)
}

// TestLimitsAreSharedAcrossReplicas: two replicas behind one load balancer, with the
// limits counted in the store, let one address start as many new conversations as one
// replica would (new=2/min,burst=3: three in all, not three each), and count one
// conversation's messages together too; another address is not held back.
func TestLimitsAreSharedAcrossReplicas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		limits, err := webchat.ParseLimits("new=2/min,burst=3,messages=1/min")
		if err != nil {
			t.Fatal(err)
		}
		replicas := []*harness{newHarness(t, b), newHarness(t, b)}
		for _, h := range replicas {
			h.server.SetLimits(limits, sharedLimits{b.Store.RateLimits()})
		}
		started := 0
		var token string
		for i := range 8 {
			a := replicas[i%2].post(t, "/api/chat", "", "198.51.100.20", strings.NewReader(`{"text":"halo"}`))
			if a.Status == http.StatusOK {
				started++
				token = a.Token
			}
		}
		if started != 3 {
			t.Errorf("one address started %d conversations through two replicas, want the burst of 3 in all", started)
		}
		if a := replicas[0].post(t, "/api/chat", "", "203.0.113.20", strings.NewReader(`{"text":"halo"}`)); a.Status != http.StatusOK {
			t.Errorf("another address was refused a new conversation: %d", a.Status)
		}
		// One conversation: 20 at once (the burst), then held back on either replica.
		sent := 0
		for i := range 30 {
			a := replicas[i%2].post(t, "/api/chat", token, "198.51.100.20", strings.NewReader(fmt.Sprintf(`{"text":"menu","id":"m%d"}`, i)))
			if a.Status == http.StatusOK {
				sent++
			}
		}
		if sent != 20 {
			t.Errorf("one conversation sent %d of 30 messages through two replicas, want its burst of 20 in all", sent)
		}
	})
}
