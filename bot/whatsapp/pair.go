package whatsapp

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/mdp/qrterminal/v3"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"golang.org/x/term"

	"github.com/layan-id/layan/bot"
)

// DeviceConfig names the device store for the `layan whatsapp` commands.
type DeviceConfig struct {
	DataDir string // DATA_DIR
	DB      string // WHATSAPP_DB
	Logger  *slog.Logger
}

// pairTimeout bounds a whole pairing: WhatsApp closes the pairing connection after
// its QR codes ran out, about 160 s.
const pairTimeout = 4 * time.Minute

// staleState is how old the state the running service records may be before
// Status says no running Layan holds the connection.
const staleState = 45 * time.Second

// Command runs `layan whatsapp …`: "pair [--phone 62812…]" or "status". It needs
// neither Redis nor the data directory lock, so it may run next to the service.
func Command(ctx context.Context, dc DeviceConfig, args []string, out io.Writer) error {
	const usage = "usage: layan whatsapp pair [--phone 62812…] | layan whatsapp status"
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "pair":
		fs := flag.NewFlagSet("whatsapp pair", flag.ContinueOnError)
		fs.SetOutput(out)
		phone := fs.String("phone", "", "link with an 8-character code typed on this phone number (international form, 62812…) instead of a QR code")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return errors.New(usage)
		}
		return Pair(ctx, dc, *phone, out)
	case "status":
		if len(args) > 1 {
			return errors.New(usage)
		}
		return Status(ctx, dc, out)
	}
	return fmt.Errorf("unknown whatsapp command %q\n%s", args[0], usage)
}

// NormalizePhone returns an international phone number as digits ("+62 812-3456-789"
// gives "628123456789"), or an error that says how to write it.
func NormalizePhone(s string) (string, error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' || r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("phone number %q: only digits, please (international form, e.g. 6281234567890)", s)
		}
	}
	d := b.String()
	switch {
	case strings.HasPrefix(d, "0"):
		return "", fmt.Errorf("phone number %q: use the international form without the leading 0 (e.g. 62812… for 0812…)", s)
	case len(d) < 8 || len(d) > 15:
		return "", fmt.Errorf("phone number %q: want 8 to 15 digits with the country code (e.g. 6281234567890)", s)
	}
	return d, nil
}

// Pair links a WhatsApp number to Layan as a linked device and prints the number.
// Without phone it draws QR codes in the terminal, a new one as each expires, to be
// scanned on the phone (WhatsApp → Linked devices → Link a device); with phone it
// prints an 8-character code to type on that phone instead. When a number is
// already linked it says so and changes nothing. Messages that arrive meanwhile are
// not acknowledged: the service receives them.
func Pair(ctx context.Context, dc DeviceConfig, phone string, out io.Writer) error {
	if phone != "" {
		var err error
		if phone, err = NormalizePhone(phone); err != nil {
			return err
		}
	}
	log := dc.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	walog := NewLogger(log, bot.NewPseudonymizer(nil))
	devices, err := OpenDevices(ctx, dc.DataDir, dc.DB, walog.Sub("Database"))
	if err != nil {
		return err
	}
	defer devices.Close()
	dev, err := devices.First(ctx)
	if err != nil {
		return err
	}
	if dev.ID != nil {
		fmt.Fprintf(out, "WhatsApp number +%s is already linked to Layan.\n"+
			"To link another number, first remove Layan on the linked phone (WhatsApp → Linked devices → Layan → Log out),\n"+
			"wait until `layan whatsapp status` says \"not linked\", then pair again.\n", dev.ID.User)
		return nil
	}

	// A running service waits while the state says "pairing": connecting the new
	// device before this process let go of it would replace one connection by the other.
	if err := devices.saveState(ctx, statePairing, state{kind: statePairing}.detail(time.UTC), time.Now()); err != nil {
		return err
	}
	linked := false
	defer func() { // after the disconnect below
		end, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		kind := stateNotLinked
		if linked {
			kind = statePaired
		}
		devices.saveState(end, kind, state{kind: kind}.detail(time.UTC), time.Now())
	}()

	ctx, cancel := context.WithTimeout(ctx, pairTimeout)
	defer cancel()
	client := whatsmeow.NewClient(dev, walog.Sub("Client"))
	client.SynchronousAck = true
	client.EnableDecryptedEventBuffer = true
	connected := make(chan struct{}, 1)
	client.AddEventHandlerWithSuccessStatus(func(evt any) bool {
		switch evt.(type) {
		case *events.Message:
			return false // not ours to answer: WhatsApp delivers it again to the service
		case *events.Connected:
			select {
			case connected <- struct{}{}:
			default:
			}
		}
		return true
	})
	qr, err := client.GetQRChannel(ctx)
	if err != nil {
		return fmt.Errorf("whatsapp: pair: %w", err)
	}
	if err := client.Connect(); err != nil {
		return fmt.Errorf("whatsapp: pair: connect: %w", err)
	}
	defer client.Disconnect()

	screen := newScreen(out)
	codes := 0
	for {
		var item whatsmeow.QRChannelItem
		var ok bool
		select {
		case item, ok = <-qr:
		case <-ctx.Done():
			return errors.New("whatsapp: pairing timed out; run `layan whatsapp pair` again")
		}
		if !ok {
			return errors.New("whatsapp: pairing ended without a result; run `layan whatsapp pair` again")
		}
		switch item.Event {
		case whatsmeow.QRChannelEventCode:
			codes++
			if phone == "" {
				screen.showQR(item.Code, item.Timeout, codes)
				continue
			}
			if codes > 1 {
				continue // the connection stays open for the typed code; QR codes are not shown
			}
			code, err := client.PairPhone(ctx, phone, true, whatsmeow.PairClientChrome, "Chrome (Linux)")
			if err != nil {
				return fmt.Errorf("whatsapp: pair with phone number: %w", err)
			}
			fmt.Fprintf(out, "On the phone with WhatsApp number +%s, open WhatsApp → Linked devices → Link a device →\n"+
				"\"Link with phone number instead\", and type this code (WhatsApp also shows a notification):\n\n    %s\n\n"+
				"Waiting (about 2 minutes at most)…\n", phone, code)
		case whatsmeow.QRChannelSuccess.Event:
			select { // pairing is followed by a reconnect; the device is saved by then
			case <-connected:
			case <-time.After(30 * time.Second):
			case <-ctx.Done():
			}
			screen.clear()
			number := "(unknown)"
			if client.Store.ID != nil {
				number = "+" + client.Store.ID.User
			}
			linked = true
			fmt.Fprintf(out, "Linked: WhatsApp number %s is now served by Layan.\n"+
				"A running Layan picks it up by itself within a minute; `layan whatsapp status` shows the connection.\n", number)
			return nil
		case whatsmeow.QRChannelTimeout.Event:
			return errors.New("whatsapp: no code was used in time; run `layan whatsapp pair` again")
		case whatsmeow.QRChannelEventError:
			return fmt.Errorf("whatsapp: pairing failed: %w", item.Error)
		case whatsmeow.QRChannelScannedWithoutMultidevice.Event:
			fmt.Fprintln(out, "The phone's WhatsApp does not support linked devices yet: update WhatsApp on the phone and scan again.")
		case whatsmeow.QRChannelClientOutdated.Event:
			return errors.New("whatsapp: WhatsApp refuses this version of the client: update Layan")
		default:
			return fmt.Errorf("whatsapp: pairing stopped unexpectedly (%s); run `layan whatsapp pair` again", item.Event)
		}
	}
}

// screen shows QR codes, each replacing the last on a terminal.
type screen struct {
	out io.Writer
	tty bool
}

func newScreen(out io.Writer) *screen {
	f, ok := out.(*os.File)
	return &screen{out: out, tty: ok && term.IsTerminal(int(f.Fd()))}
}

func (s *screen) clear() {
	if s.tty {
		fmt.Fprint(s.out, "\033[H\033[2J")
	}
}

func (s *screen) showQR(code string, valid time.Duration, n int) {
	s.clear()
	fmt.Fprintf(s.out, "Scan this QR code with the regency's WhatsApp phone:\n"+
		"WhatsApp → ⋮ or Settings → Linked devices → Link a device.\n"+
		"(code %d, valid for %d s; a new one follows; Ctrl+C to stop)\n\n", n, int(valid.Seconds()))
	renderQR(s.out, code)
}

// renderQR draws code as a QR code of Unicode half blocks (two modules a character
// row), small enough for an 80×24 terminal, with a quiet zone phones need.
func renderQR(w io.Writer, code string) {
	qrterminal.GenerateWithConfig(code, qrterminal.Config{
		Level:          qrterminal.L,
		Writer:         w,
		HalfBlocks:     true,
		BlackChar:      qrterminal.BLACK_BLACK,
		WhiteBlackChar: qrterminal.WHITE_BLACK,
		WhiteChar:      qrterminal.WHITE_WHITE,
		BlackWhiteChar: qrterminal.BLACK_WHITE,
		QuietZone:      2,
	})
}

// Status prints whether a WhatsApp number is linked and whether a running Layan
// holds its connection, as the service last recorded (it never connects itself: a
// second connection would replace the service's).
func Status(ctx context.Context, dc DeviceConfig, out io.Writer) error {
	log := dc.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	devices, err := OpenDevices(ctx, dc.DataDir, dc.DB, NewLogger(log, nil).Sub("Database"))
	if err != nil {
		return err
	}
	defer devices.Close()
	dev, err := devices.First(ctx)
	if err != nil {
		return err
	}
	kind, detail, at, found, err := devices.lastState(ctx)
	if err != nil {
		return err
	}
	fmt.Fprint(out, statusText(dev.ID != nil, numberOf(dev.ID), kind, detail, at, found, time.Now()))
	return nil
}

func numberOf(id *types.JID) string {
	if id == nil {
		return ""
	}
	return id.User
}

// statusText is what Status prints.
func statusText(linked bool, number string, kind stateKind, detail string, at time.Time, found bool, now time.Time) string {
	var b strings.Builder
	if linked {
		fmt.Fprintf(&b, "linked:    yes, WhatsApp number +%s\n", number)
	} else {
		b.WriteString("linked:    no; run `layan whatsapp pair` to link the regency's number\n")
	}
	age := now.Sub(at).Round(time.Second)
	switch {
	case !found:
		b.WriteString("connected: no; no running Layan has connected yet\n")
	case age > staleState:
		fmt.Fprintf(&b, "connected: no; no running Layan holds the connection (last report %s ago: %s)\n", age, detail)
	case kind == stateConnected:
		fmt.Fprintf(&b, "connected: yes (reported %s ago)\n", age)
	default:
		fmt.Fprintf(&b, "connected: no; %s (reported %s ago)\n", detail, age)
	}
	return b.String()
}
