package whatsapp

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/types"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

var _ Lock = (*store.WhatsApp)(nil)
var _ bot.MediaStore = (*store.Media)(nil)

// memDB names an in-memory SQLite database of the test's own.
func memDB(t *testing.T) string {
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	return "file:" + name + "?mode=memory&cache=shared&_pragma=foreign_keys(1)"
}

// linkDevice stores a linked device for phone, as pairing would.
func linkDevice(t *testing.T, d *Devices, user string) {
	t.Helper()
	ctx := context.Background()
	dev, err := d.First(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := types.NewADJID(user, 0, 12)
	dev.ID = &id
	dev.Account = &waAdv.ADVSignedDeviceIdentity{Details: []byte("d"), AccountSignature: make([]byte, 64),
		AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64)}
	if err := dev.Save(ctx); err != nil {
		t.Fatalf("save device: %v", err)
	}
}

func TestDeviceStore(t *testing.T) {
	ctx := context.Background()

	t.Run("the device store opens and upgrades on in-memory SQLite", func(t *testing.T) {
		d, err := OpenDevices(ctx, "", memDB(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		dev, err := d.First(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if dev.ID != nil {
			t.Errorf("a fresh store has a linked device %v", dev.ID)
		}
		again, err := OpenDevices(ctx, "", memDB(t), nil) // already at the latest version
		if err != nil {
			t.Fatalf("opening an upgraded store again: %v", err)
		}
		again.Close()
	})

	t.Run("without foreign keys whatsmeow's store is refused", func(t *testing.T) {
		_, err := OpenDevices(ctx, "", "file:nofk?mode=memory&cache=shared&_pragma=foreign_keys(0)", nil)
		if err == nil || !strings.Contains(err.Error(), "foreign keys") {
			t.Errorf("OpenDevices = %v, want a foreign-keys error", err)
		}
	})

	t.Run("the default store is a SQLite file in the data directory, in WAL mode", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		d, err := OpenDevices(ctx, dir, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		var mode string
		if err := d.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("journal_mode = %q, %v", mode, err)
		}
		linkDevice(t, d, phone)
		d.Close()
		if _, err := os.Stat(filepath.Join(dir, "whatsapp.db")); err != nil {
			t.Fatalf("no whatsapp.db in DATA_DIR: %v", err)
		}
		d, err = OpenDevices(ctx, dir, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		dev, _ := d.First(ctx)
		if dev.ID == nil || dev.ID.User != phone {
			t.Errorf("the linked device did not survive a reopen: %v", dev.ID)
		}
	})

	t.Run("a logged-out device is forgotten", func(t *testing.T) {
		d, err := OpenDevices(ctx, "", memDB(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		linkDevice(t, d, phone)
		if err := d.Forget(ctx, types.NewADJID(phone, 0, 12)); err != nil {
			t.Fatal(err)
		}
		if dev, _ := d.First(ctx); dev.ID != nil {
			t.Errorf("device still linked: %v", dev.ID)
		}
		if err := d.Forget(ctx, types.NewADJID(phone, 0, 12)); err != nil {
			t.Errorf("forgetting twice: %v", err)
		}
	})

	t.Run("the connection state is recorded for the status command", func(t *testing.T) {
		d, err := OpenDevices(ctx, "", memDB(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if _, _, _, found, err := d.lastState(ctx); found || err != nil {
			t.Fatalf("a fresh store has a state: %v %v", found, err)
		}
		at := time.UnixMilli(time.Now().UnixMilli())
		for _, k := range []stateKind{stateConnecting, stateConnected} {
			if err := d.saveState(ctx, k, string(k), at); err != nil {
				t.Fatal(err)
			}
		}
		kind, detail, got, found, err := d.lastState(ctx)
		if err != nil || !found || kind != stateConnected || detail != "connected" || !got.Equal(at) {
			t.Errorf("lastState = %q %q %v %v %v", kind, detail, got, found, err)
		}
	})
}

func TestParseDB(t *testing.T) {
	tests := []struct {
		name, dataDir, db string
		driver            string
		dsn               string // prefix
		contains          []string
		err               bool
	}{
		{name: "nothing means SQLite in DATA_DIR with foreign keys, WAL, a busy timeout and normal sync",
			dataDir: "/var/lib/layan", driver: "sqlite", dsn: "file:/var/lib/layan/whatsapp.db?",
			contains: []string{"_pragma=foreign_keys(1)", "_pragma=journal_mode(WAL)", "_pragma=busy_timeout(5000)", "_pragma=synchronous(NORMAL)"}},
		{name: "a question mark in the path is escaped", dataDir: "/data?x", driver: "sqlite", dsn: "file:/data%3fx/whatsapp.db?"},
		{name: "a postgres URL selects PostgreSQL", db: "postgres://layan:secret@db:5432/layan?sslmode=disable",
			driver: "postgres", dsn: "postgres://layan:secret@db:5432/layan"},
		{name: "a postgresql URL too", db: "postgresql://db/layan", driver: "postgres", dsn: "postgresql://db/layan"},
		{name: "a SQLite DSN gets foreign keys when it does not say", db: "file:/tmp/wa.db?_pragma=busy_timeout(100)",
			driver: "sqlite", dsn: "file:/tmp/wa.db?_pragma=busy_timeout(100)&_pragma=foreign_keys(1)"},
		{name: "anything else is refused", db: "mysql://root:secret@db/layan", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			driver, dsn, err := ParseDB(tt.dataDir, tt.db)
			if tt.err {
				if err == nil {
					t.Fatal("accepted")
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("the error repeats the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if driver != tt.driver || !strings.HasPrefix(dsn, tt.dsn) {
				t.Errorf("ParseDB = %q %q", driver, dsn)
			}
			for _, c := range tt.contains {
				if !strings.Contains(dsn, c) {
					t.Errorf("DSN %q lacks %q", dsn, c)
				}
			}
		})
	}
}

func TestCommands(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))

	t.Run("status of a fresh store says nothing is linked or connected", func(t *testing.T) {
		var out bytes.Buffer
		if err := Command(ctx, DeviceConfig{DataDir: t.TempDir(), Logger: quiet}, []string{"status"}, &out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "linked:    no") || !strings.Contains(out.String(), "connected: no") {
			t.Errorf("status:\n%s", out.String())
		}
	})

	t.Run("status names the linked number and what the running service reported", func(t *testing.T) {
		dir := t.TempDir()
		d, err := OpenDevices(ctx, dir, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		linkDevice(t, d, phone)
		d.saveState(ctx, stateConnected, "connected", time.Now())
		d.Close()
		var out bytes.Buffer
		if err := Status(ctx, DeviceConfig{DataDir: dir, Logger: quiet}, &out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "linked:    yes, WhatsApp number +"+phone) || !strings.Contains(out.String(), "connected: yes") {
			t.Errorf("status:\n%s", out.String())
		}
	})

	t.Run("pairing when a number is already linked changes nothing and connects nowhere", func(t *testing.T) {
		dir := t.TempDir()
		d, err := OpenDevices(ctx, dir, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		linkDevice(t, d, phone)
		d.Close()
		var out bytes.Buffer
		if err := Command(ctx, DeviceConfig{DataDir: dir, Logger: quiet}, []string{"pair"}, &out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "+"+phone+" is already linked") {
			t.Errorf("pair said:\n%s", out.String())
		}
	})

	t.Run("a national phone number is refused before anything connects", func(t *testing.T) {
		err := Command(ctx, DeviceConfig{DataDir: t.TempDir()}, []string{"pair", "--phone", "0812-3456-7890"}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "international") {
			t.Errorf("pair --phone 0812… = %v", err)
		}
	})

	t.Run("unknown subcommands and stray arguments are refused with the usage", func(t *testing.T) {
		for _, args := range [][]string{nil, {"link"}, {"status", "now"}, {"pair", "extra"}} {
			if err := Command(ctx, DeviceConfig{DataDir: t.TempDir()}, args, &bytes.Buffer{}); err == nil {
				t.Errorf("%q accepted", args)
			}
		}
	})
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"6281234567890", "6281234567890"},
		{"+62 812-3456-7890", "6281234567890"},
		{"(62) 812.3456.7890", "6281234567890"},
		{"081234567890", ""},
		{"62812", ""},
		{"62812abc4567", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizePhone(tt.in)
			if got != tt.want || (err == nil) != (tt.want != "") {
				t.Errorf("NormalizePhone(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}

func TestStatusText(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		linked bool
		kind   stateKind
		detail string
		at     time.Time
		found  bool
		want   string
	}{
		{"a fresh report of a connection says connected", true, stateConnected, "connected", now.Add(-5 * time.Second), true, "connected: yes (reported 5s ago)"},
		{"a stale report means no running Layan holds the connection", true, stateConnected, "connected", now.Add(-10 * time.Minute), true, "no running Layan holds the connection"},
		{"a fresh report of a problem says the problem", true, stateBanned, "temporarily banned by WhatsApp", now.Add(-time.Second), true, "connected: no; temporarily banned"},
		{"no report at all", false, "", "", time.Time{}, false, "no running Layan has connected yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := statusText(tt.linked, phone, tt.kind, tt.detail, tt.at, tt.found, now)
			if !strings.Contains(got, tt.want) {
				t.Errorf("status:\n%s\nwant it to say %q", got, tt.want)
			}
		})
	}
}

func TestRenderQR(t *testing.T) {
	t.Run("a pairing code is drawn as a QR code of half blocks with even rows", func(t *testing.T) {
		var b bytes.Buffer
		renderQR(&b, "2@8mX1vKq3GzVfP0k2w,Xn1ZtHq0yVvQ9m1c8wN0q3k=,b5z0Cq1Hq2w3e4r5t6y7u8i9o0p=,ZmFrZQ==")
		lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
		if len(lines) < 15 || len(lines) > 40 {
			t.Fatalf("%d lines: not a QR code fit for a terminal", len(lines))
		}
		width := utf8.RuneCountInString(lines[0])
		for i, l := range lines {
			if n := utf8.RuneCountInString(l); n != width {
				t.Errorf("line %d is %d wide, line 0 is %d", i, n, width)
			}
		}
		if !strings.ContainsAny(b.String(), "▀▄") || !strings.Contains(b.String(), "█") {
			t.Error("not drawn with half blocks")
		}
	})
}

func TestLogger(t *testing.T) {
	t.Run("whatsmeow's info and debug lines stay out of an info log and phone numbers never show", func(t *testing.T) {
		var b bytes.Buffer
		l := NewLogger(slog.New(slog.NewTextHandler(&b, nil)), bot.NewPseudonymizer([]byte("k"))).Sub("Client")
		l.Infof("Successfully paired %s@s.whatsapp.net", phone)
		l.Debugf("<message from=%q/>", phone+"@s.whatsapp.net")
		l.Warnf("Error decrypting message %s from %s:3@s.whatsapp.net: %v", msgID, phone, "bad mac")
		l.Errorf("Failed to send receipt to %s@lid", lid)
		out := b.String()
		if strings.Contains(out, phone) || strings.Contains(out, lid) {
			t.Errorf("log holds a phone number or LID:\n%s", out)
		}
		if strings.Contains(out, "paired") || strings.Contains(out, "<message") {
			t.Errorf("info or debug lines reached an info log:\n%s", out)
		}
		if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "module=whatsmeow/Client") {
			t.Errorf("warnings and errors missing:\n%s", out)
		}
		if !strings.Contains(out, msgID) {
			t.Errorf("the message id (no personal data) was redacted too:\n%s", out)
		}
	})
	t.Run("the same number gets the same pseudonym", func(t *testing.T) {
		p := bot.NewPseudonymizer([]byte("k"))
		a, b := redact("from "+phone, p), redact(phone+"@s.whatsapp.net", p)
		if strings.TrimPrefix(a, "from ") != strings.TrimSuffix(b, "@s.whatsapp.net") {
			t.Errorf("%q and %q", a, b)
		}
	})
}

func TestRun(t *testing.T) {
	t.Run("while no device is linked Run waits, says once how to pair, and returns when stopped", func(t *testing.T) {
		h := newHarness(t, nil)
		h.c.detach(stateStarting)
		h.c.cfg.DB, h.c.cfg.LinkPoll = memDB(t), 10*time.Millisecond
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- h.c.Run(ctx) }()
		waitFor(t, func() bool { _, d := h.c.Health(); return strings.HasPrefix(d, "not linked") })
		time.Sleep(100 * time.Millisecond) // several more looks
		if n := strings.Count(h.logs.String(), "no WhatsApp number is linked"); n != 1 {
			t.Errorf("said %d times how to pair, want once", n)
		}
		if ok, _ := h.c.Health(); ok {
			t.Error("Health ok without a linked device")
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return when stopped")
		}
	})

	t.Run("a replica that does not hold the connection lock stands by and never connects", func(t *testing.T) {
		h := newHarness(t, nil)
		h.c.detach(stateStarting)
		b := storetest.Mini(t)
		lock := b.Store.WhatsApp()
		if ok, _ := lock.TakeConnLock(context.Background(), "the-other-replica", time.Minute); !ok {
			t.Fatal("could not take the lock for the other replica")
		}
		h.c.lock = lock
		h.c.cfg.DB, h.c.cfg.LinkPoll, h.c.cfg.LockRenew = memDB(t), 10*time.Millisecond, 10*time.Millisecond
		d, err := OpenDevices(context.Background(), "", h.c.cfg.DB, nil) // keeps the memory database alive
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		linkDevice(t, d, phone)

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- h.c.Run(ctx) }()
		waitFor(t, func() bool { ok, d := h.c.Health(); return ok && strings.HasPrefix(d, "standby") })
		time.Sleep(50 * time.Millisecond)
		h.c.mu.RLock()
		cl := h.c.client
		h.c.mu.RUnlock()
		if cl != nil {
			t.Error("a standby replica has a client")
		}
		if n := strings.Count(h.logs.String(), "standing by"); n != 1 {
			t.Errorf("said %d times it stands by, want once", n)
		}
		cancel()
		<-done
		if holder, _ := lock.ConnLockHolder(context.Background()); holder != "the-other-replica" {
			t.Errorf("the standby replica changed the lock holder to %q", holder)
		}
	})

	t.Run("a device still being paired is left alone until the pairing command is done", func(t *testing.T) {
		h := newHarness(t, nil)
		h.c.detach(stateStarting)
		h.c.lock = &fakeLock{holder: "the-other-replica"} // so that nothing ever connects here
		h.c.cfg.DB, h.c.cfg.LinkPoll, h.c.cfg.LockRenew = memDB(t), 10*time.Millisecond, 10*time.Millisecond
		d, err := OpenDevices(context.Background(), "", h.c.cfg.DB, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		linkDevice(t, d, phone)
		d.saveState(context.Background(), statePairing, "pairing", time.Now())

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- h.c.Run(ctx) }()
		time.Sleep(100 * time.Millisecond)
		if _, detail := h.c.Health(); detail != "starting" {
			t.Fatalf("while pairing runs the channel went on to %q", detail)
		}
		d.saveState(context.Background(), statePaired, "paired", time.Now())
		waitFor(t, func() bool { _, d := h.c.Health(); return strings.HasPrefix(d, "standby") })
		cancel()
		<-done
	})

	t.Run("a holder that loses the lock disconnects at once", func(t *testing.T) {
		h := newHarness(t, nil)
		h.c.cfg.LockRenew, h.c.cfg.LockTTL = 10*time.Millisecond, 100*time.Millisecond
		h.lock.renew = false // another replica took it
		d, err := OpenDevices(context.Background(), "", memDB(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		held, lost := context.WithCancel(context.Background())
		defer lost()
		go h.c.renewLock(held, lost, d)
		select {
		case <-held.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the connection was kept after the lock was lost")
		}
		if kind, _, _, found, _ := d.lastState(context.Background()); !found || kind != stateConnected {
			t.Errorf("the state was not recorded for the status command: %q %v", kind, found)
		}
	})

	t.Run("a holder that cannot reach Redis disconnects before another may take over", func(t *testing.T) {
		h := newHarness(t, nil)
		h.c.cfg.LockRenew, h.c.cfg.LockTTL = 10*time.Millisecond, 60*time.Millisecond
		h.lock.err = context.DeadlineExceeded
		d, err := OpenDevices(context.Background(), "", memDB(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		held, lost := context.WithCancel(context.Background())
		defer lost()
		start := time.Now()
		go h.c.renewLock(held, lost, d)
		select {
		case <-held.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the connection was kept although the lock could not be renewed")
		}
		if time.Since(start) < h.c.cfg.LockTTL-h.c.cfg.LockRenew {
			t.Errorf("gave up after %v, before the lock could expire", time.Since(start))
		}
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
