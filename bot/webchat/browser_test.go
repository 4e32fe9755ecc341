package webchat_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/webchat"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// browserPaths are where the test looks for a Chromium-compatible browser.
var browserPaths = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// findBrowser returns the browser to drive. Without one the test is skipped on a
// developer's machine and fails in CI, which must always run it.
func findBrowser(t *testing.T) string {
	t.Helper()
	for _, name := range browserPaths {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (looked for " + strings.Join(browserPaths, ", ") + " on PATH); " +
		"install it with `apt-get install -y chromium` (Debian/Ubuntu) to run the browser test"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// newBrowser starts a headless browser with a fresh profile and returns a tab's
// context. lang is the browser's language (navigator.language and Accept-Language).
func newBrowser(t *testing.T, execPath, lang string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests may run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("accept-lang", lang), // navigator.language and Accept-Language
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// Start the browser under ctx, which lives as long as the test.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start the browser %s: %v", execPath, err)
	}
	return ctx
}

// Selectors of what a person sees.
const (
	menuButtons  = chromedp.CSS(`.msg.bot .options button`)
	pushedBubble = chromedp.CSS(`li.msg.pushed`)
	textBox      = chromedp.CSS(`#text`)
	sendButton   = chromedp.CSS(`#send`)
	newButton    = chromedp.CSS(`#new`)
)

// botSays selects the bot's bubble whose text starts with prefix.
func botSays(prefix string) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(`//li[contains(concat(" ", @class, " "), " bot ")][starts-with(normalize-space(.), %q)]`, prefix))
}

// button selects the last offered button labelled label.
func button(label string) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(`(//li[contains(concat(" ", @class, " "), " bot ")]//button[normalize-space(.) = %q])[last()]`, label))
}

// TestBrowser drives the chat page in a real headless browser on a phone-sized
// screen, as an Indonesian visitor would.
func TestBrowser(t *testing.T) {
	execPath := findBrowser(t)
	h := newHarness(t, storetest.Mini(t))
	srv := httptest.NewServer(h.mux)
	t.Cleanup(srv.Close) // after the browser is gone (cleanups run last first)
	tab := newBrowser(t, execPath, "id-ID")

	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	do := func(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	count := func(t *testing.T, sel string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
		if err != nil {
			t.Fatalf("count %s: %v", sel, err)
		}
		return n
	}

	do(t, "open the page on a phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait),
		chromedp.Navigate(srv.URL),
	)

	t.Run("the greeting and the menu buttons appear", func(t *testing.T) {
		do(t, "wait for the menu", chromedp.WaitVisible(menuButtons))
		do(t, "see the greeting", chromedp.WaitVisible(botSays("Halo, selamat datang!")))
		lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
		if err != nil {
			t.Fatal(err)
		}
		if lang != "id" {
			t.Errorf("page language %q, want id for an Indonesian browser", lang)
		}
	})

	t.Run("the person switches to English with the buttons", func(t *testing.T) {
		do(t, "pick Ganti bahasa", chromedp.Click(button("Ganti bahasa")))
		do(t, "see the language prompt", chromedp.WaitVisible(botSays("Pilih bahasa:")))
		do(t, "pick English", chromedp.Click(button("English")))
		do(t, "see the English confirmation", chromedp.WaitVisible(botSays("All right, from now on I will use English.")))
		if n := count(t, `li.msg.me`); n != 2 {
			t.Errorf("%d of the person's bubbles, want 2 (the two picks)", n)
		}
		labels, err := chromedp.Run(ctx, chromedp.Evaluate[string](
			`document.getElementById("send").textContent + "|" + document.getElementById("text").placeholder + "|" + document.documentElement.lang`))
		if err != nil {
			t.Fatal(err)
		}
		if labels != "Send|Type a message…|en" {
			t.Errorf("after switching to English the page reads %q, want its own labels in English", labels)
		}
	})

	t.Run("the person types help and gets it in English", func(t *testing.T) {
		do(t, "type help and send",
			chromedp.SendKeys(textBox, "help"),
			chromedp.Click(sendButton),
			chromedp.WaitVisible(botSays("How to use Layan:")),
		)
		left, err := chromedp.Run(ctx, chromedp.Value(textBox))
		if err != nil {
			t.Fatal(err)
		}
		if left != "" {
			t.Errorf("the text box still holds %q after sending", left)
		}
	})

	t.Run("a pushed message appears live without reloading", func(t *testing.T) {
		token, err := chromedp.Run(ctx, chromedp.Evaluate[string](`localStorage.getItem("layan.token")`))
		if err != nil || len(token) < 22 {
			t.Fatalf("token in localStorage %q (%v)", token, err)
		}
		const text = "Pengumuman: festival budaya hari Sabtu."
		if err := h.channel.Send(ctx, bot.Recipient{Channel: webchat.ChannelName, ChatID: webchat.ChatID(token)}, bot.Reply{Text: text}); err != nil {
			t.Fatal(err)
		}
		do(t, "see the pushed message", chromedp.WaitVisible(pushedBubble))
		got, err := chromedp.Run(ctx, chromedp.Text(pushedBubble))
		if err != nil {
			t.Fatal(err)
		}
		if got != text {
			t.Errorf("pushed bubble says %q, want %q", got, text)
		}
	})

	t.Run("the history is still shown after a reload", func(t *testing.T) {
		before := count(t, `li.msg`)
		do(t, "reload",
			chromedp.Reload(),
			chromedp.WaitVisible(pushedBubble),
			chromedp.WaitVisible(botSays("How to use Layan:")),
			chromedp.WaitVisible(botSays("Halo, selamat datang!")),
		)
		if after := count(t, `li.msg`); after != before {
			t.Errorf("%d bubbles after the reload, %d before", after, before)
		}
		send, err := chromedp.Run(ctx, chromedp.Text(sendButton))
		if err != nil {
			t.Fatal(err)
		}
		if send != "Send" {
			t.Errorf("after a reload the send button says %q, want the chosen language's Send", send)
		}
	})

	t.Run("the same browser opened again shows the conversation from the server", func(t *testing.T) {
		// A new tab has the token (localStorage) but none of the tab's own bubbles
		// (sessionStorage): what it shows comes from GET /api/chat/history.
		tab2, closeTab := chromedp.NewContext(ctx)
		defer closeTab()
		if err := chromedp.Do(tab2,
			chromedp.Navigate(srv.URL),
			chromedp.WaitVisible(botSays("How to use Layan:")),
			chromedp.WaitVisible(botSays("Halo, selamat datang!")),
		); err != nil {
			t.Fatalf("open the page in a new tab: %v", err)
		}
		mine, err := chromedp.Run(tab2, chromedp.Evaluate[[]string](
			`Array.from(document.querySelectorAll("li.msg.me"), (li) => li.textContent)`))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(mine, "help") || !slices.Contains(mine, "English") {
			t.Errorf("the person's own earlier messages shown are %q, want help and English among them", mine)
		}
		times, err := chromedp.Run(tab2, chromedp.Evaluate[int](`document.querySelectorAll("li.msg[data-time]").length`))
		if err != nil || times == 0 {
			t.Errorf("no message shows its time (%v)", err)
		}
		if err := chromedp.Do(tab2,
			chromedp.SendKeys(textBox, "menu"),
			chromedp.Click(sendButton),
			chromedp.WaitVisible(button("Change language")),
		); err != nil {
			t.Errorf("the conversation goes on in the new tab: %v", err)
		}
	})

	t.Run("a returning visitor whose history has expired is greeted with the menu", func(t *testing.T) {
		const token = "returning-visitor-token-0123456789"
		if err := h.b.Store.WebChats().Register(ctx, webchat.ChatID(token)); err != nil {
			t.Fatal(err)
		}
		tab3, closeTab := chromedp.NewContext(ctx)
		defer closeTab()
		if err := chromedp.Do(tab3,
			chromedp.Navigate(srv.URL+"/static/style.css"), // same origin, to set the token
			chromedp.Evaluate[chromedp.Void](`localStorage.setItem("layan.token", "`+token+`"); sessionStorage.clear()`),
			chromedp.Navigate(srv.URL),
			chromedp.WaitVisible(menuButtons),
		); err != nil {
			t.Fatalf("open the page with an old token: %v", err)
		}
		if got, _ := chromedp.Run(tab3, chromedp.Evaluate[string](`localStorage.getItem("layan.token")`)); got != token {
			t.Errorf("the page holds token %q, want the returning visitor's own", got)
		}
	})

	t.Run("a new conversation makes the browser forget the old one", func(t *testing.T) {
		old, err := chromedp.Run(ctx, chromedp.Evaluate[string](`localStorage.getItem("layan.token")`))
		if err != nil || old == "" {
			t.Fatalf("token before %q (%v)", old, err)
		}
		label, err := chromedp.Run(ctx, chromedp.Text(newButton))
		if err != nil {
			t.Fatal(err)
		}
		if label != "New conversation" {
			t.Errorf("the control reads %q, want New conversation in the page's language", label)
		}
		do(t, "press New conversation",
			chromedp.Click(newButton),
			chromedp.WaitVisible(botSays("Hello and welcome!")),
		)
		if n := count(t, `li.msg.pushed`) + count(t, `li.msg.me`); n != 0 {
			t.Errorf("%d bubbles of the old conversation are still shown", n)
		}
		kept, err := chromedp.Run(ctx, chromedp.Evaluate[string](
			`JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])`))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(kept, old) {
			t.Errorf("the browser still keeps the old token: %s", kept)
		}
		if strings.Contains(kept, "How to use Layan") {
			t.Errorf("the browser still keeps the old conversation's history: %s", kept)
		}
		fresh, err := chromedp.Run(ctx, chromedp.Evaluate[string](`localStorage.getItem("layan.token")`))
		if err != nil || len(fresh) < 22 || fresh == old {
			t.Fatalf("token after %q (%v), want a new one", fresh, err)
		}
		// News for the old conversation no longer reaches this page; the new one's does.
		if err := h.channel.Send(ctx, bot.Recipient{Channel: webchat.ChannelName, ChatID: webchat.ChatID(old)}, bot.Reply{Text: "Untuk percakapan lama"}); err != nil {
			t.Fatal(err)
		}
		if err := h.channel.Send(ctx, bot.Recipient{Channel: webchat.ChannelName, ChatID: webchat.ChatID(fresh)}, bot.Reply{Text: "Untuk percakapan baru"}); err != nil {
			t.Fatal(err)
		}
		do(t, "see the new conversation's news", chromedp.WaitVisible(pushedBubble))
		if got, _ := chromedp.Run(ctx, chromedp.Text(`#log`)); strings.Contains(got, "Untuk percakapan lama") {
			t.Errorf("the old conversation's news is shown after New conversation: %q", got)
		}
		do(t, "reload", chromedp.Reload(), chromedp.WaitVisible(pushedBubble))
		if got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`localStorage.getItem("layan.token")`)); got != fresh {
			t.Errorf("after a reload the page holds token %q, want the new conversation's", got)
		}
	})

	t.Run("the text box and the send button fit a phone screen", func(t *testing.T) {
		do(t, "see the controls", chromedp.WaitVisible(textBox), chromedp.WaitVisible(sendButton))
		type box struct{ Left, Right, Top, Bottom, Width, Height float64 }
		fit, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
			Width, Height, ScrollWidth float64
			Text, Send, New            box
		}](`(() => {
			const r = (id) => { const b = document.getElementById(id).getBoundingClientRect();
				return {Left: b.left, Right: b.right, Top: b.top, Bottom: b.bottom, Width: b.width, Height: b.height}; };
			return {Width: window.innerWidth, Height: window.innerHeight,
				ScrollWidth: document.documentElement.scrollWidth, Text: r("text"), Send: r("send"), New: r("new")};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if fit.Width != 390 {
			t.Errorf("viewport is %v wide, want 390", fit.Width)
		}
		if fit.ScrollWidth > fit.Width {
			t.Errorf("the page scrolls sideways: %v wide on a %v screen", fit.ScrollWidth, fit.Width)
		}
		for name, r := range map[string]box{"text box": fit.Text, "send button": fit.Send, "new conversation control": fit.New} {
			if r.Left < 0 || r.Right > fit.Width || r.Top < 0 || r.Bottom > fit.Height {
				t.Errorf("the %s (%+v) is not within the %vx%v screen", name, r, fit.Width, fit.Height)
			}
			if r.Width < 40 || r.Height < 32 {
				t.Errorf("the %s is %vx%v, too small to tap", name, r.Width, r.Height)
			}
		}
		if fit.Text.Width < fit.Width/2 {
			t.Errorf("the text box is only %v of %v wide", fit.Text.Width, fit.Width)
		}
	})

	if path := os.Getenv("LAYAN_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("take a screenshot: %v", err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Error(err)
		}
		t.Logf("screenshot saved to %s", path)
	}
}

// TestBrowserInEnglish checks that a visitor whose browser speaks English gets the page
// and the greeting in English.
func TestBrowserInEnglish(t *testing.T) {
	execPath := findBrowser(t)
	h := newHarness(t, storetest.Mini(t))
	srv := httptest.NewServer(h.mux)
	t.Cleanup(srv.Close)
	tab := newBrowser(t, execPath, "en-US")
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()

	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL),
		chromedp.WaitVisible(botSays("Hello and welcome!")),
		chromedp.WaitVisible(button("Change language")),
	)
	if err != nil {
		t.Fatal(err)
	}
	send, err := chromedp.Run(ctx, chromedp.Text(sendButton))
	if err != nil {
		t.Fatal(err)
	}
	if send != "Send" {
		t.Errorf("send button says %q, want Send", send)
	}
}

// TestBrowserShowsAStaffPhoto: a person talking with staff on the web chat sees the
// photo a staff member sent, live and again when the page is opened anew.
func TestBrowserShowsAStaffPhoto(t *testing.T) {
	execPath := findBrowser(t)
	h, desk, courier := staffedHarness(t, storetest.Mini(t))
	media, err := store.NewMedia(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h.server.AcceptPhotos(media)
	srv := httptest.NewServer(h.mux)
	t.Cleanup(srv.Close)
	tab := newBrowser(t, execPath, "id-ID")
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()

	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL),
		chromedp.WaitVisible(menuButtons),
		chromedp.SendKeys(textBox, "bicara dengan petugas"),
		chromedp.Click(sendButton),
		chromedp.WaitVisible(chromedp.CSS(`li.msg.me`)),
	); err != nil {
		t.Fatalf("ask for a person: %v", err)
	}
	var waiting []*domain.Handoff
	for len(waiting) == 0 && ctx.Err() == nil { // the request is in once the answer is shown
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`li.msg.bot:nth-last-child(1)`))); err != nil {
			t.Fatal(err)
		}
		courier.wg.Wait()
		if waiting, err = desk.Queue(context.Background(), domain.HandoffWaiting, 10); err != nil {
			t.Fatal(err)
		}
	}
	if len(waiting) == 0 {
		t.Fatal("the person's request is not in the queue")
	}
	var img bytes.Buffer
	png.Encode(&img, image.NewRGBA(image.Rect(0, 0, 16, 9)))
	name, _, err := media.Save(bytes.NewReader(img.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := desk.Photo(context.Background(), waiting[0].ID, "Budi", name); err != nil {
		t.Fatal(err)
	}
	courier.wg.Wait()

	shown := func(t *testing.T, tab context.Context) {
		t.Helper()
		if err := chromedp.Do(tab, chromedp.WaitVisible(botSays("Petugas mengirim foto untuk Anda.")), chromedp.WaitVisible(chromedp.CSS(`li.msg.bot img.photo`))); err != nil {
			t.Fatalf("see the photo: %v", err)
		}
		// Visible is not loaded: wait for the image itself, as the person does.
		w, err := chromedp.Run(tab, chromedp.Evaluate[int](`new Promise(done => {
			const img = document.querySelector("li.msg.bot img.photo");
			if (img.complete && img.naturalWidth > 0) { done(img.naturalWidth); return; }
			// The page fetches the photo first, then sets src: wait for it, within bounds.
			img.addEventListener("load", () => done(img.naturalWidth));
			img.addEventListener("error", () => done(-1));
			setTimeout(() => done(img.isConnected ? img.naturalWidth : -2), 10000);
		})`, chromedp.EvalAwaitPromise))
		if err != nil || w != 16 {
			t.Errorf("the photo shown is %d pixels wide (%v), want the 16 staff sent", w, err)
		}
	}
	t.Run("the photo appears live", func(t *testing.T) { shown(t, ctx) })
	t.Run("the photo is shown again in a new tab, from the server", func(t *testing.T) {
		tab2, closeTab := chromedp.NewContext(ctx)
		defer closeTab()
		if err := chromedp.Do(tab2, chromedp.Navigate(srv.URL)); err != nil {
			t.Fatal(err)
		}
		shown(t, tab2)
	})
	t.Run("a reply sent while the page was closed is shown once when it is opened again", func(t *testing.T) {
		// A conversation no page has streamed yet: the reply waits in its inbox and
		// is in its history.
		token := h.send(t, "", map[string]string{"text": "bicara dengan petugas", "id": "closed"}).Token
		courier.wg.Wait()
		list, err := desk.Queue(context.Background(), domain.HandoffWaiting, 10)
		if err != nil {
			t.Fatal(err)
		}
		var id string
		for _, ho := range list {
			if ho.ChatID == webchat.ChatID(token) {
				id = ho.ID
			}
		}
		if id == "" {
			t.Fatal("the second person is not in the queue")
		}
		if _, err := desk.Reply(context.Background(), id, "Budi", "Dokumen Anda sudah siap diambil."); err != nil {
			t.Fatal(err)
		}
		courier.wg.Wait()
		tab3, closeTab := chromedp.NewContext(ctx)
		defer closeTab()
		if err := chromedp.Do(tab3,
			chromedp.Navigate(srv.URL+"/static/style.css"), // same origin, to set the token
			chromedp.Evaluate[chromedp.Void](`localStorage.setItem("layan.token", "`+token+`")`),
			chromedp.Navigate(srv.URL),
			chromedp.WaitVisible(botSays("Petugas: Dokumen Anda sudah siap diambil.")),
		); err != nil {
			t.Fatalf("see the reply: %v", err)
		}
		// A message pushed after it comes on the live stream: by then the stream has
		// given what it held, and the staff reply must still be there once.
		if err := h.channel.Send(context.Background(), bot.Recipient{Channel: webchat.ChannelName, ChatID: webchat.ChatID(token)}, bot.Reply{Text: "Pengumuman: kantor tutup Jumat."}); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(tab3, chromedp.WaitVisible(botSays("Pengumuman: kantor tutup Jumat."))); err != nil {
			t.Fatalf("see the announcement: %v", err)
		}
		n, err := chromedp.Run(tab3, chromedp.Evaluate[int](
			`Array.from(document.querySelectorAll("li.msg.bot")).filter((li) => li.textContent.startsWith("Petugas: Dokumen Anda")).length`))
		if err != nil || n != 1 {
			t.Errorf("the staff reply is shown %d times (%v), want once", n, err)
		}
	})
}
