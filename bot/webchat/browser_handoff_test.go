package webchat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/layan-id/layan/admin"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/store/storetest"
)

// A citizen on the chat page asks for a person; a member of staff answers through the
// staff JSON API over HTTP. The page shows the answer pushed, without a reload, with
// its link tappable and nothing else read as HTML; a status bar says where the talk
// stands; a reload shows the conversation and its state again.
func TestBrowserTalksWithStaffThroughTheStaffAPI(t *testing.T) {
	execPath := findBrowser(t)
	b := storetest.Mini(t)
	h, desk, _ := staffedHarness(t, b)
	const staffToken = "staff-token-for-the-browser-test-7f3a9c2e51b84d06"
	api := admin.New(admin.Config{Token: staffToken, Complaints: b.Store.Complaints("WEB", time.UTC)})
	api.EnableHandoffs(admin.HandoffConfig{Desk: desk, Events: b.Store.Handoffs().Events, EmptyReply: flows.ErrEmptyReply})
	api.Register(h.mux)
	srv := httptest.NewServer(h.mux)
	t.Cleanup(srv.Close)
	staff := func(t *testing.T, method, path, body string) string {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+staffToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, out)
		}
		return string(out)
	}

	tab := newBrowser(t, execPath, "id-ID")
	ctx, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	do := func(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(t *testing.T, js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	statusIs := func(t *testing.T, want string) {
		t.Helper()
		do(t, "see the status "+want, chromedp.Poll[chromedp.Void](
			fmt.Sprintf(`!document.getElementById("handoff").hidden && document.getElementById("handoff").textContent === %q`, want),
			chromedp.WithPollingTimeout(15*time.Second)))
	}

	do(t, "open the page on a phone and ask for a person",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait),
		chromedp.Navigate(srv.URL),
		chromedp.WaitVisible(menuButtons),
		chromedp.SendKeys(textBox, "saya mau bicara dengan petugas"),
		chromedp.Click(sendButton),
		chromedp.WaitVisible(botSays("Baik, saya sambungkan Anda dengan petugas.")),
	)
	t.Run("the status bar says the person waits for staff", func(t *testing.T) { statusIs(t, "Menunggu petugas…") })

	var queue struct {
		Conversations []struct{ ID string } `json:"conversations"`
	}
	json.Unmarshal([]byte(staff(t, "GET", "/api/admin/conversations?state=waiting", "")), &queue)
	if len(queue.Conversations) != 1 {
		t.Fatalf("the queue has %d conversations, want the person's", len(queue.Conversations))
	}
	id := queue.Conversations[0].ID
	const maps = "https://maps.google.com/?q=-6.9,109.7"
	reply := "Kantor kami di sini: " + maps + " (buka 08.00). <b>Bawa KK</b> <img src=x onerror=alert(1)> javascript:alert(1)"
	body, _ := json.Marshal(map[string]string{"text": reply, "by": "Budi"})
	staff(t, "POST", "/api/admin/conversations/"+id+"/messages", string(body))

	t.Run("the staff reply arrives pushed, without a reload, and the bar says a person is there", func(t *testing.T) {
		do(t, "see the reply", chromedp.WaitVisible(botSays("Petugas: Kantor kami di sini:")))
		statusIs(t, "Anda terhubung dengan petugas")
	})
	t.Run("the address is a link that opens apart from the page; nothing else is HTML", func(t *testing.T) {
		got := eval(t, `(() => {
			const li = Array.from(document.querySelectorAll("li.msg.bot")).find((l) => l.textContent.startsWith("Petugas: Kantor"));
			const as = li.querySelectorAll("a");
			return JSON.stringify({links: Array.from(as, (a) => [a.getAttribute("href"), a.textContent, a.target, a.rel]),
				elements: Array.from(li.querySelectorAll("*"), (e) => e.tagName).filter((n) => n !== "A" && n !== "DIV" && n !== "BUTTON"),
				text: li.firstChild ? li.textContent : ""});
		})()`)
		var seen struct {
			Links    [][]string
			Elements []string
			Text     string
		}
		json.Unmarshal([]byte(got), &seen)
		if len(seen.Links) != 1 || seen.Links[0][0] != maps || seen.Links[0][1] != maps || seen.Links[0][2] != "_blank" ||
			!strings.Contains(seen.Links[0][3], "noopener") {
			t.Errorf("links %q, want one to %s opening in a new tab with noopener", seen.Links, maps)
		}
		if len(seen.Elements) != 0 {
			t.Errorf("the reply made elements %v, want none but the link", seen.Elements)
		}
		if !strings.Contains(seen.Text, "<b>Bawa KK</b> <img src=x onerror=alert(1)> javascript:alert(1)") {
			t.Errorf("the reply reads %q, want the tags shown as typed", seen.Text)
		}
	})
	t.Run("what the person answers reaches staff", func(t *testing.T) {
		do(t, "answer", chromedp.SendKeys(textBox, "Apakah perlu fotokopi KK?"), chromedp.Click(sendButton),
			chromedp.WaitVisible(chromedp.Search(`//li[contains(@class, "me")][normalize-space(.)="Apakah perlu fotokopi KK?"]`)))
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(staff(t, "GET", "/api/admin/conversations/"+id+"/messages", ""), "Apakah perlu fotokopi KK?") {
			if time.Now().After(deadline) {
				t.Fatal("staff do not see the person's answer")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	t.Run("a reload shows the conversation and where it stands again", func(t *testing.T) {
		do(t, "reload", chromedp.Reload(), chromedp.WaitVisible(botSays("Petugas: Kantor kami di sini:")),
			chromedp.WaitVisible(botSays("Halo, selamat datang!")))
		statusIs(t, "Anda terhubung dengan petugas")
		if n := eval(t, `String(document.querySelectorAll("li.msg.bot a[href='`+maps+`']").length)`); n != "1" {
			t.Errorf("after the reload the link is there %s times, want once", n)
		}
	})
	t.Run("a new tab shows it from the server, where it stands too", func(t *testing.T) {
		tab2, closeTab := chromedp.NewContext(ctx)
		defer closeTab()
		if err := chromedp.Do(tab2, chromedp.Navigate(srv.URL), chromedp.WaitVisible(botSays("Petugas: Kantor kami di sini:")),
			chromedp.Poll[chromedp.Void](`document.getElementById("handoff").textContent === "Anda terhubung dengan petugas"`,
				chromedp.WithPollingTimeout(15*time.Second))); err != nil {
			t.Fatalf("open a new tab: %v", err)
		}
	})
	t.Run("staff end the talk: the bar says so and never covers the rating buttons", func(t *testing.T) {
		staff(t, "POST", "/api/admin/conversations/"+id+"/end", `{"by":"Budi"}`)
		do(t, "see the end", chromedp.WaitVisible(botSays("Petugas telah mengakhiri percakapan")), chromedp.WaitVisible(button("5")))
		statusIs(t, "Percakapan dengan petugas selesai")
		covered := eval(t, `(() => {
			const bs = Array.from(document.querySelectorAll("li.msg.bot .options button")).slice(-5);
			return bs.filter((b) => { b.scrollIntoView({block: "nearest"}); const r = b.getBoundingClientRect();
				return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) !== b; }).map((b) => b.textContent).join(",");
		})()`)
		if covered != "" {
			t.Errorf("buttons %s are covered", covered)
		}
		do(t, "rate", chromedp.Click(button("5")), chromedp.WaitVisible(botSays("Terima kasih atas penilaian Anda.")),
			chromedp.Poll[chromedp.Void](`document.getElementById("handoff").hidden`, chromedp.WithPollingTimeout(10*time.Second)))
	})
}
