package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// findChromium returns the browser to drive. Without one the test is skipped on a
// developer's machine and fails in CI, which must always run it (as the web chat's).
func findChromium(t *testing.T) string {
	t.Helper()
	names := []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (looked for " + strings.Join(names, ", ") + " on PATH); install it with `apt-get install -y chromium`"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// addStaff creates an account as `layan staff add` does, before the service starts.
func addStaff(t *testing.T, vars map[string]string, args ...string) {
	t.Helper()
	var out, errs bytes.Buffer
	if err := run(context.Background(), append([]string{"staff", "add"}, args...), env(vars), strings.NewReader("kata-sandi-panjang\n"), &out, &errs); err != nil {
		t.Fatalf("staff add %v: %v\n%s", args, err, errs.String())
	}
}

// TestTheStaffWorkspaceInABrowser drives the workspace in a real headless browser
// against the whole service: a citizen files a complaint with a photo and a place on
// the web chat; an admin signs in, finds it, sees its photo and its pin, passes it to
// an agency and finishes it with a note, and the citizen's web chat shows the news;
// a broadcast scheduled for now reaches done and the citizen; an officer of another
// agency cannot open the complaint. With LAYAN_DOCS_SCREENSHOTS=1 it saves the
// README's screenshots of the inbox and the complaint into docs/.
func TestTheStaffWorkspaceInABrowser(t *testing.T) {
	execPath := findChromium(t)
	vars := map[string]string{"DATA_DIR": t.TempDir(), "HTTP_ADDR": freeAddr(t), "TICKET_PREFIX": "BTG",
		// No tile server answers here: the map must still show its pin, and say so.
		"STAFF_MAP_TILES": "http://127.0.0.1:9/{z}/{x}/{y}.png"}
	addStaff(t, vars, "sari", "--role", "admin")
	addStaff(t, vars, "dewi", "--role", "officer", "--agency", "dlh")
	stop := startServe(t, vars)
	defer stop()
	addr := vars["HTTP_ADDR"]
	base := "http://" + addr

	// The citizen files a complaint no agency is routed for, with a photo and a place,
	// and subscribes to announcements.
	token, _ := post(t, addr, "", `{"text":"halo"}`)
	post(t, addr, token, `{"text":"langganan"}`)
	post(t, addr, token, `{"option":"sub:pengumuman"}`)
	post(t, addr, token, `{"text":"lapor"}`)
	post(t, addr, token, `{"option":"cat:lainnya"}`)
	post(t, addr, token, `{"text":"Trotoar di depan alun-alun rusak dan membahayakan pejalan kaki"}`)
	post(t, addr, token, `{"location":{"lat":-6.9075,"lon":109.7302},"id":"loc-1"}`)
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{R: uint8(x * 4), G: 110, B: 92, A: 255})
		}
	}
	var photo bytes.Buffer
	png.Encode(&photo, img)
	if status, _ := postRaw(t, addr, "/api/chat/upload?id=photo-1", token, "image/png", photo.Bytes()); status != http.StatusOK {
		t.Fatalf("the photo: %d", status)
	}
	post(t, addr, token, `{"text":"lanjut"}`)
	post(t, addr, token, `{"option":"conf:no"}`)
	_, replies := post(t, addr, token, `{"option":"confirm","id":"confirm-1"}`)
	ticket := regexp.MustCompile(`BTG-\d{6}-\d{4}`).FindString(strings.Join(replies, " "))
	if ticket == "" {
		t.Fatalf("no ticket in %q", replies)
	}

	// A question the knowledge base cannot answer yet, asked twice.
	const cpns = "syarat ikut seleksi cpns apa aja"
	asker, _ := post(t, addr, "", `{"text":"halo"}`)
	post(t, addr, asker, `{"text":"`+cpns+`"}`)
	post(t, addr, asker, `{"text":"`+cpns+`"}`)

	// Another citizen's complaint, so that the inbox holds more than one.
	other, _ := post(t, addr, "", `{"text":"halo"}`)
	for _, m := range []string{`{"text":"lapor"}`, `{"option":"cat:sampah"}`, `{"text":"Sampah menumpuk di depan pasar Batang sejak Senin"}`,
		`{"text":"Jl. Gajah Mada, depan pasar"}`, `{"text":"lanjut"}`, `{"option":"conf:yes"}`, `{"option":"confirm","id":"confirm-2"}`} {
		post(t, addr, other, m)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("accept-lang", "id-ID"),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start the browser: %v", err)
	}
	ctx, cancel := context.WithTimeout(browser, 90*time.Second)
	defer cancel()
	do := func(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	docs := os.Getenv("LAYAN_DOCS_SCREENSHOTS") != ""
	shoot := func(t *testing.T, name string) {
		t.Helper()
		if !docs {
			return
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join("docs", name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	signIn := func(t *testing.T, name string) {
		t.Helper()
		do(t, "sign in as "+name,
			chromedp.Navigate(base+"/staff/"),
			chromedp.WaitVisible(chromedp.CSS(`#username`)),
			chromedp.SendKeys(chromedp.CSS(`#username`), name),
			chromedp.SendKeys(chromedp.CSS(`#password`), "kata-sandi-panjang"),
			chromedp.Click(chromedp.CSS(`#signin`)),
			chromedp.WaitVisible(chromedp.CSS(`#who`)),
		)
	}
	row := chromedp.CSS(fmt.Sprintf(`#complaints tr[data-id=%q] a`, ticket))

	t.Run("an admin signs in and finds the new complaint", func(t *testing.T) {
		do(t, "open the workspace on a desktop", chromedp.EmulateViewport(1280, 860))
		signIn(t, "sari")
		do(t, "see the complaint in the inbox", chromedp.WaitVisible(row))
		shoot(t, "workspace-inbox.png")
		do(t, "open it", chromedp.Click(row), chromedp.WaitVisible(chromedp.CSS(`#description`)))
	})

	t.Run("the complaint shows its photo and its pin", func(t *testing.T) {
		do(t, "see the photo and the pin",
			chromedp.WaitVisible(chromedp.CSS(`.photos img`)),
			chromedp.WaitVisible(chromedp.CSS(`#map .leaflet-marker-icon`)),
			chromedp.WaitVisible(chromedp.CSS(`#map-failed`)), // the tiles could not load
		)
		w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelector(".photos img").naturalWidth`))
		if err != nil || w != 64 {
			t.Errorf("the photo shown is %d pixels wide (%v), want the citizen's 64", w, err)
		}
		coords, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#coords`)))
		if !strings.Contains(coords, "-6.907500, 109.730200") {
			t.Errorf("the location in text reads %q", coords)
		}
		shoot(t, "workspace-complaint.png")
	})

	t.Run("it is verified, passed to an agency and finished with a note", func(t *testing.T) {
		// Each action loads the page anew: wait for that action's own message.
		flash := func(words string) chromedp.Search {
			return chromedp.Search(fmt.Sprintf(`//p[@id="flash"][contains(., %q)]`, words))
		}
		do(t, "verify", chromedp.Click(chromedp.CSS(`#do-verify`)), chromedp.WaitVisible(flash("sudah diverifikasi")))
		do(t, "pass it to Dinas PUPR",
			chromedp.SetValue(chromedp.CSS(`#dispose-agency`), "pupr"),
			chromedp.Click(chromedp.CSS(`#do-dispose`)),
			chromedp.WaitVisible(flash("sudah didisposisikan")),
		)
		agency, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#agency`)))
		if !strings.Contains(agency, "Dinas Pekerjaan Umum") {
			t.Errorf("after passing it on, the agency reads %q", agency)
		}
		do(t, "finish it with a note",
			chromedp.SendKeys(chromedp.CSS(`#finish-text`), "Trotoar sudah diperbaiki oleh tim PUPR."),
			chromedp.Click(chromedp.CSS(`#do-finish`)),
			chromedp.WaitVisible(flash("sudah diselesaikan")),
		)
		status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#status`)))
		if status != "Selesai" {
			t.Errorf("the status reads %q, want Selesai", status)
		}
	})

	t.Run("the citizen's web chat shows the news", func(t *testing.T) {
		tab, closeTab := chromedp.NewContext(ctx)
		defer closeTab()
		news := chromedp.Search(fmt.Sprintf(`//li[contains(concat(" ", @class, " "), " bot ")][contains(., %q)][contains(., "Selesai")]`, "Kabar pengaduan "+ticket))
		if err := chromedp.Do(tab,
			chromedp.Navigate(base+"/static/style.css"), // same origin, to hand the page the citizen's token
			chromedp.Evaluate[chromedp.Void](`localStorage.setItem("layan.token", "`+token+`")`),
			chromedp.Navigate(base+"/"),
			chromedp.WaitVisible(news),
		); err != nil {
			t.Fatalf("see the news in the web chat: %v", err)
		}
		text, _ := chromedp.Run(tab, chromedp.Text(news))
		if !strings.Contains(text, "Trotoar sudah diperbaiki oleh tim PUPR.") {
			t.Errorf("the news reads %q, want the staff's note", text)
		}
	})

	t.Run("a broadcast scheduled for now reaches done", func(t *testing.T) {
		do(t, "write it",
			chromedp.Navigate(base+"/staff/broadcasts/new"),
			chromedp.WaitVisible(chromedp.CSS(`#text_id`)),
			chromedp.Click(chromedp.CSS(`input[name=topics][value=pengumuman]`)),
			chromedp.SendKeys(chromedp.CSS(`#text_id`), "Kantor pelayanan tutup Jumat siang."),
			chromedp.Click(chromedp.CSS(`#review`)),
			chromedp.WaitVisible(chromedp.CSS(`#send`)),
		)
		when, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#when`)))
		if !strings.HasPrefix(when, "sekali, ") {
			t.Errorf("the review says when as %q", when)
		}
		do(t, "send it and watch it reach done",
			chromedp.Click(chromedp.CSS(`#send`)),
			chromedp.WaitVisible(chromedp.CSS(`#runs-body tr[data-state=done]`)),
		)
		// Once delivered, the page loads itself anew: read it when it has.
		var sent string
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState === "complete" && !document.querySelector("#runs-body[data-live='1']") ? `+
				`(document.querySelector("#runs-body tr[data-state=done] td:nth-child(4)") || {}).textContent || "" : ""`))
			if err == nil && got != "" {
				sent = got
				break
			}
		}
		if sent != "1" {
			t.Errorf("the run sent %q messages, want 1 (the one subscriber)", sent)
		}
		shoot(t, "workspace-broadcast.png")
	})

	t.Run("an entry made from an unanswered question, tried and published, answers the citizen", func(t *testing.T) {
		makeLink := chromedp.Search(fmt.Sprintf(`//table[@id="unanswered"]//tr[td[contains(., %q)]]//a[contains(@class, "make")]`, cpns))
		do(t, "find the question and make an entry from it",
			chromedp.Click(chromedp.CSS(`#nav-kb`)),
			chromedp.WaitVisible(makeLink),
		)
		shoot(t, "workspace-kb-unanswered.png")
		do(t, "make an entry from it",
			chromedp.Click(makeLink),
			chromedp.WaitVisible(chromedp.CSS(`#questions_id`)),
		)
		first, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#questions_id`)))
		if first != cpns {
			t.Errorf("the new entry starts with the questions %q, want the one asked", first)
		}
		tried := chromedp.Search(`//div[@id="tried-answer"][contains(., "SSCASN")]`)
		do(t, "write it and try the question against the draft",
			chromedp.SendKeys(chromedp.CSS(`#id`), "cpns-daftar"),
			chromedp.SetValue(chromedp.CSS(`#questions_id`), cpns+"\nbagaimana cara daftar cpns"),
			chromedp.SendKeys(chromedp.CSS(`#answer_id`), "Pendaftaran CPNS lewat portal SSCASN milik BKN."),
			chromedp.SendKeys(chromedp.CSS(`#tags`), "cpns"),
			chromedp.Click(chromedp.CSS(`#try-button`)),
			chromedp.WaitVisible(tried),
		)
		shoot(t, "workspace-kb.png")
		// Trying published nothing: the citizen is not answered with the draft yet.
		if _, replies := post(t, addr, asker, `{"text":"`+cpns+`"}`); strings.Contains(strings.Join(replies, " "), "SSCASN") {
			t.Fatal("the citizen got the draft's answer before it was published")
		}
		do(t, "publish it",
			chromedp.Click(chromedp.CSS(`#publish`)),
			chromedp.WaitVisible(chromedp.Search(`//p[@id="flash"][contains(., "sudah diterbitkan")]`)),
		)
		tab, closeTab := chromedp.NewContext(ctx)
		defer closeTab()
		answer := chromedp.Search(`//li[contains(concat(" ", @class, " "), " bot ")][contains(., "SSCASN")]`)
		if err := chromedp.Do(tab,
			chromedp.Navigate(base+"/static/style.css"),
			chromedp.Evaluate[chromedp.Void](`localStorage.setItem("layan.token", "`+asker+`")`),
			chromedp.Navigate(base+"/"),
			chromedp.WaitVisible(chromedp.CSS(`#text`)),
			chromedp.SendKeys(chromedp.CSS(`#text`), cpns),
			chromedp.Click(chromedp.CSS(`#send`)),
			chromedp.WaitVisible(answer),
		); err != nil {
			t.Fatalf("the citizen's web chat does not get the new answer: %v", err)
		}
	})

	t.Run("an officer of another agency cannot open the complaint", func(t *testing.T) {
		do(t, "sign out", chromedp.Click(chromedp.CSS(`#logout`)), chromedp.WaitVisible(chromedp.CSS(`#username`)))
		signIn(t, "dewi")
		if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll('tr[data-id=%q]').length`, ticket))); n != 0 {
			t.Error("the other agency's officer sees the complaint in the inbox")
		}
		do(t, "open it by its address", chromedp.Navigate(base+"/staff/complaints/"+ticket), chromedp.WaitVisible(chromedp.CSS(`h1`)))
		h1, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`h1`)))
		if h1 != "Halaman tidak ditemukan" {
			t.Errorf("the officer of another agency sees %q", h1)
		}
	})

	t.Run("the pages fit a phone", func(t *testing.T) {
		do(t, "a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
			chromedp.Navigate(base+"/staff/"), chromedp.WaitVisible(chromedp.CSS(`#who`)))
		fits := func(paths ...string) {
			for _, path := range paths {
				do(t, "open "+path, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS(`h1`)))
				wide, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.scrollWidth`))
				if err != nil || wide > 390 {
					t.Errorf("%s is %v wide on a 390 px phone (%v)", path, wide, err)
				}
			}
		}
		fits("/staff/", "/staff/broadcasts", "/staff/broadcasts/new")
		// The admin's pages: the knowledge base and the tip of the day's new time.
		do(t, "sign out", chromedp.Click(chromedp.CSS(`#logout`)), chromedp.WaitVisible(chromedp.CSS(`#username`)))
		signIn(t, "sari")
		fits("/staff/kb", "/staff/kb/entries", "/staff/kb/new", "/staff/kb/entries/cpns-daftar", "/staff/kb/history",
			"/staff/broadcasts/tip-of-the-day")
	})
}
