package whatsappcloud

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/layan-id/layan/bot/guard"
)

// maxPayload is the largest webhook body read; Meta's notifications are a few KiB,
// batches of many messages somewhat more.
const maxPayload = 3 << 20

// Register adds GET and POST /whatsapp/webhook to mux.
func (c *Channel) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+WebhookPath, c.verify)
	mux.HandleFunc("POST "+WebhookPath, c.webhook)
}

// verify answers Meta's verification handshake: the challenge as plain text when
// the verify token is right, 403 otherwise.
func (c *Channel) verify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token := q.Get("hub.verify_token")
	if q.Get("hub.mode") != "subscribe" ||
		subtle.ConstantTimeCompare([]byte(token), []byte(c.cfg.VerifyToken)) != 1 {
		if wait := c.guard.Throttled(r); wait > 0 {
			w.Header().Set("Retry-After", guard.RetryAfter(wait))
			http.Error(w, "too many wrong verify tokens; try again later", http.StatusTooManyRequests)
			return
		}
		c.guard.Fail(r, "wrong verify token")
		http.Error(w, "wrong verify token", http.StatusForbidden)
		return
	}
	c.log.Info("whatsapp cloud: Meta verified the webhook")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, q.Get("hub.challenge"))
}

// webhook receives one notification: it checks the signature (401 when wrong or
// missing, nothing done), queues the raw payload durably and answers 200 at once. A
// signed body that is not a notification gets 400; a store that cannot take it 503
// (Meta retries).
func (c *Channel) webhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPayload))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "could not read the payload", http.StatusBadRequest)
		return
	}
	if !ValidSignature(c.cfg.AppSecret, body, r.Header.Get("X-Hub-Signature-256")) {
		if wait := c.guard.Throttled(r); wait > 0 {
			w.Header().Set("Retry-After", guard.RetryAfter(wait))
			http.Error(w, "too many bad signatures; try again later", http.StatusTooManyRequests)
			return
		}
		reason := "bad signature"
		if r.Header.Get("X-Hub-Signature-256") == "" {
			reason = "no signature"
		}
		c.guard.Fail(r, reason)
		http.Error(w, "bad or missing signature", http.StatusUnauthorized)
		return
	}
	if _, err := decode(body); err != nil {
		http.Error(w, "not a WhatsApp notification", http.StatusBadRequest)
		return
	}
	if err := c.store.Enqueue(r.Context(), body); err != nil {
		c.log.Error("whatsapp cloud: could not queue a webhook payload", "err", err)
		http.Error(w, "busy, try again", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// ValidSignature reports whether header ("sha256=<hex>") is the HMAC-SHA256 of body
// with secret, comparing in constant time.
func ValidSignature(secret string, body []byte, header string) bool {
	got, ok := strings.CutPrefix(header, "sha256=")
	if !ok || secret == "" {
		return false
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(sig, mac.Sum(nil))
}

// Sign returns the X-Hub-Signature-256 header value of body with secret (for tests
// and tools that replay payloads).
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
