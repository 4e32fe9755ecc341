package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// child is the real layan binary running the service as a separate process.
type child struct {
	cmd  *exec.Cmd
	addr string
	out  *syncBuffer
}

// buildLayan builds the binary once for the test.
func buildLayan(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "layan")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

// startChild starts the binary with env and waits until /healthz answers.
func startChild(t *testing.T, bin string, env []string) *child {
	t.Helper()
	c := &child{addr: freeAddr(t), out: &syncBuffer{}}
	c.cmd = exec.Command(bin)
	c.cmd.Env = append(os.Environ(), append(env, "HTTP_ADDR="+c.addr)...)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get("http://" + c.addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return c
			}
		}
		if time.Now().After(deadline) {
			c.cmd.Process.Kill()
			t.Fatalf("the service did not answer /healthz within 30 s; output:\n%s", c.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops the process with SIGKILL, as a crash or the OOM killer would.
func (c *child) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()
}

// chat sends one message; it returns the reply texts, or an error when the process is
// gone (it may be killed at any moment).
func (c *child) chat(token, id, text string) (string, []string, error) {
	return c.chatWith(http.DefaultClient, token, id, text)
}

// chatWith is chat through the given client.
func (c *child) chatWith(client *http.Client, token, id, text string) (string, []string, error) {
	body, _ := json.Marshal(map[string]string{"text": text, "id": id})
	req, _ := http.NewRequest("POST", "http://"+c.addr+"/api/chat", bytes.NewReader(body))
	if token != "" {
		req.Header.Set("X-Chat-Token", token)
	}
	res, err := client.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer res.Body.Close()
	var r struct {
		Token   string `json:"token"`
		Replies []struct {
			Text string `json:"text"`
		} `json:"replies"`
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil || res.StatusCode != 200 {
		return "", nil, fmt.Errorf("POST /api/chat: %d %v", res.StatusCode, err)
	}
	var texts []string
	for _, x := range r.Replies {
		texts = append(texts, x.Text)
	}
	return r.Token, texts, nil
}

// staff calls the staff API.
func (c *child) staff(token, method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+c.addr+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if out != nil && res.StatusCode == 200 {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			return res.StatusCode, err
		}
	}
	return res.StatusCode, nil
}

var ticketRE = regexp.MustCompile(`DRL-\d{6}-\d{4}`)

// TestKillDrillEmbeddedStoreKeepsEveryTicket starts the real binary on the embedded
// store, files complaints over the web chat API while other people chat and staff move
// earlier tickets on, and kills the process with SIGKILL right after a ticket number is
// shown, at a random moment. After each restart every ticket ever shown exists once,
// with every status change staff were told of, and no number is given out twice.
func TestKillDrillEmbeddedStoreKeepsEveryTicket(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	rounds := 12
	bin := buildLayan(t)
	adminToken := randomHex(t)
	env := []string{"DATA_DIR=" + t.TempDir(), "ADMIN_TOKEN=" + adminToken, "TICKET_PREFIX=DRL", "REGION_NAME=Kabupaten Uji", "LOG_LEVEL=warn"}
	type ticket struct {
		id      string
		token   string
		history int // status changes acknowledged to staff, the first included
	}
	var tickets []*ticket
	seen := map[string]bool{}
	stopAt := time.Now().Add(3 * time.Minute)

	for round := range rounds {
		if time.Now().After(stopAt) {
			t.Fatalf("the drill ran out of time after %d rounds", round)
		}
		c := startChild(t, bin, env)

		// Everything shown before this start is still there, exactly as acknowledged.
		var list struct {
			Complaints []struct {
				ID      string `json:"id"`
				History []any  `json:"history"`
			} `json:"complaints"`
			Total int `json:"total"`
		}
		if code, err := c.staff(adminToken, "GET", "/api/admin/complaints", nil, &list); err != nil || code != 200 {
			c.kill()
			t.Fatalf("round %d: list complaints: %d %v\n%s", round, code, err, c.out.String())
		}
		if list.Total != len(tickets) {
			t.Errorf("round %d: %d complaints stored, want the %d whose ticket was shown", round, list.Total, len(tickets))
		}
		stored := map[string]int{}
		for _, cmp := range list.Complaints {
			stored[cmp.ID] = len(cmp.History)
		}
		for _, tk := range tickets {
			if got, ok := stored[tk.id]; !ok {
				t.Errorf("round %d: ticket %s was shown to a citizen and is gone", round, tk.id)
			} else if got < tk.history {
				t.Errorf("round %d: ticket %s has %d history entries, staff were told of %d", round, tk.id, got, tk.history)
			}
		}
		if len(tickets) > 0 { // the citizen's conversation carries on
			tk := tickets[mrand.IntN(len(tickets))]
			if _, replies, err := c.chat(tk.token, fmt.Sprintf("status-%d", round), "status"); err != nil || !strings.Contains(strings.Join(replies, "\n"), tk.id) {
				t.Errorf("round %d: the citizen of %s asked for status and got %q (%v)", round, tk.id, replies, err)
			}
		}

		// Load beside the complaint: other people chatting, staff verifying the previous ticket.
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range 3 {
			wg.Go(func() {
				token := ""
				for i := 0; ctx.Err() == nil; i++ {
					tok, _, err := c.chat(token, fmt.Sprintf("r%d-w%d-%d", round, w, i), []string{"halo", "menu", "ktp hilang gmn", "wisata"}[i%4])
					if err != nil {
						return
					}
					token = tok
				}
			})
		}
		if len(tickets) > 0 {
			tk := tickets[len(tickets)-1]
			if tk.history == 1 {
				code, err := c.staff(adminToken, "POST", "/api/admin/complaints/"+tk.id+"/status", map[string]string{"status": "diverifikasi", "by": "petugas-uji"}, nil)
				if err == nil && code == 200 {
					tk.history = 2
				}
			}
		}

		// A citizen files a complaint; the process dies just after the ticket is shown.
		token, _, err := c.chat("", fmt.Sprintf("c%d-0", round), "halo")
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		var shown string
		for i, text := range []string{"lapor", "1", "Jalan desa berlubang besar di depan balai desa sejak dua minggu", "lewati", "lanjut", "2", "1"} {
			_, replies, err := c.chat(token, fmt.Sprintf("c%d-%d", round, i+1), text)
			if err != nil {
				t.Fatalf("round %d step %q: %v\n%s", round, text, err, c.out.String())
			}
			if m := ticketRE.FindString(strings.Join(replies, "\n")); m != "" && i == 6 {
				shown = m
			}
		}
		time.Sleep(time.Duration(mrand.IntN(30)) * time.Millisecond)
		c.kill()
		cancel()
		wg.Wait()
		if shown == "" {
			t.Fatalf("round %d: no ticket number shown", round)
		}
		if seen[shown] {
			t.Errorf("round %d: ticket number %s was given out a second time", round, shown)
		}
		seen[shown] = true
		tickets = append(tickets, &ticket{id: shown, token: token, history: 1})
	}
	t.Logf("%d kills, %d tickets, all kept", rounds, len(tickets))
}

func randomHex(t *testing.T) string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}
