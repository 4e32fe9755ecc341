package whatsapp

import (
	"context"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/layan-id/layan/bot"
)

// Pauses of the connection loop.
const (
	replacedPause   = 5 * time.Minute  // after another program took the session
	outdatedPause   = time.Hour        // after WhatsApp refused this client version
	banPause        = time.Hour        // after a ban whose end WhatsApp did not say
	failedPause     = time.Minute      // after any other permanent connection failure
	redeliverDelay  = 30 * time.Second // from a message left unacknowledged to the reconnect that fetches it again
	redeliverMinGap = 2 * time.Minute  // between two such reconnects
)

// Run connects to WhatsApp and receives messages until ctx ends, then returns nil.
// It never fails the service: while the device store cannot be opened, no device is
// linked, or another replica holds the connection, it waits (logging why once) and
// the other channels go on. See the package documentation for the lifecycle.
func (c *Channel) Run(ctx context.Context) error {
	defer c.setState(state{kind: stateStopped})
	walog := NewLogger(c.log, c.pseudo)
	devices := c.openDevices(ctx, walog)
	if devices == nil {
		return nil
	}
	defer devices.Close()

	// Replies queued when ctx ends get shutdownGrace to go out.
	jobs, release := bot.Grace(ctx, shutdownGrace)
	defer release()

	for ctx.Err() == nil {
		dev := c.waitLinked(ctx, devices)
		if dev == nil {
			break
		}
		c.holdAndServe(ctx, jobs, devices, dev, walog)
	}
	c.waitOutbox()
	return nil
}

// openDevices opens the device store, retrying with a growing pause (up to a
// minute); nil when ctx ends first.
func (c *Channel) openDevices(ctx context.Context, walog waLog.Logger) *Devices {
	d, err := bot.Retry(ctx, bot.Backoff(time.Second, time.Minute), 0, func() (*Devices, error) {
		d, err := OpenDevices(ctx, c.cfg.DataDir, c.cfg.DB, walog.Sub("Database"))
		if err != nil {
			c.setState(state{kind: stateStoreDown})
		}
		return d, err
	}, func(err error, next time.Duration) {
		c.log.Error("whatsapp: device store unavailable; will retry", "in", next, "err", err)
	})
	if err != nil {
		return nil
	}
	return d
}

// waitLinked returns the linked device, waiting (and saying once how to pair) while
// there is none; nil when ctx ends first.
func (c *Channel) waitLinked(ctx context.Context, devices *Devices) *store.Device {
	told := false
	for {
		dev, err := devices.First(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			c.log.Warn("whatsapp: read device store failed; will retry", "err", err)
		case err == nil && dev.ID != nil && c.pairing(ctx, devices):
			c.log.Debug("whatsapp: a device is being paired; waiting until the pairing command lets go of it")
		case err == nil && dev.ID != nil:
			c.mu.Lock()
			c.lids = dev.LIDs
			c.mu.Unlock()
			return dev
		case err == nil && !told:
			c.setStateUnlessPaused(stateNotLinked)
			c.log.Warn("whatsapp: no WhatsApp number is linked yet; the other channels run meanwhile. " +
				"Link one with `layan whatsapp pair` (a QR code) or `layan whatsapp pair --phone 62812…` " +
				"(a code to type on the phone); this service picks it up by itself.")
			told = true
		}
		if bot.Sleep(ctx, c.cfg.LinkPoll) != nil {
			return nil
		}
	}
}

// pairing reports whether `layan whatsapp pair` runs (recently said so and has not
// said it is done).
func (c *Channel) pairing(ctx context.Context, devices *Devices) bool {
	kind, _, at, found, err := devices.lastState(ctx)
	return err == nil && found && kind == statePairing && time.Since(at) < pairTimeout+time.Minute
}

// holdAndServe waits until this replica holds the connection lock, then stays
// connected while it holds it, pausing and reconnecting as WhatsApp's events ask. It
// returns when ctx ends, the lock is lost, or the device was logged out.
func (c *Channel) holdAndServe(ctx context.Context, jobs context.Context, devices *Devices, dev *store.Device, walog waLog.Logger) {
	if !c.takeLock(ctx) {
		return
	}
	held, lost := context.WithCancel(ctx)
	defer lost()
	go c.renewLock(held, lost, devices)
	defer func() {
		end, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		if err := c.lock.DropConnLock(end, c.token); err != nil {
			c.log.Warn("whatsapp: release connection lock", "err", err)
		}
		c.saveState(end, devices)
	}()

	failures := bot.Backoff(5*time.Second, time.Minute) // Connect failing
	for held.Err() == nil {
		next, loggedOut := c.connectOnce(ctx, held, jobs, devices, dev, walog)
		if loggedOut {
			return
		}
		if next > 0 {
			c.log.Info("whatsapp: will connect again later", "in", next.Round(time.Second))
			failures.Reset()
		} else if next < 0 { // Connect failed: a growing pause
			next = failures.NextBackOff()
		}
		if bot.Sleep(held, next) != nil {
			return
		}
	}
}

// takeLock waits until this replica holds the connection lock; false when ctx ends.
func (c *Channel) takeLock(ctx context.Context) bool {
	standby := false
	for {
		ok, err := c.lock.TakeConnLock(ctx, c.token, c.cfg.LockTTL)
		switch {
		case ok:
			if standby {
				c.log.Info("whatsapp: this replica takes over the WhatsApp connection")
			}
			return true
		case err != nil && ctx.Err() == nil:
			c.log.Warn("whatsapp: take connection lock failed; will retry", "err", err)
		case err == nil && !standby:
			c.setStateUnlessPaused(stateStandby)
			c.log.Info("whatsapp: another replica holds the WhatsApp connection; standing by")
			standby = true
		}
		if bot.Sleep(ctx, c.cfg.LockRenew) != nil {
			return false
		}
	}
}

// renewLock renews the connection lock every LockRenew and records the state for
// `layan whatsapp status`. When the lock is lost, or cannot be confirmed for longer
// than LockTTL - LockRenew (Redis unreachable: another replica may take it soon), it
// calls lost, which disconnects.
func (c *Channel) renewLock(held context.Context, lost context.CancelFunc, devices *Devices) {
	t := time.NewTicker(c.cfg.LockRenew)
	defer t.Stop()
	confirmed := time.Now()
	for {
		select {
		case <-held.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(held, c.cfg.LockRenew)
		ok, err := c.lock.RenewConnLock(ctx, c.token, c.cfg.LockTTL)
		c.saveState(ctx, devices)
		cancel()
		switch {
		case err == nil && ok:
			confirmed = time.Now()
		case err == nil:
			c.log.Error("whatsapp: the connection lock was lost (another replica may have it); disconnecting")
			lost()
			return
		case time.Since(confirmed) > c.cfg.LockTTL-c.cfg.LockRenew:
			c.log.Error("whatsapp: the connection lock cannot be renewed; disconnecting", "err", err)
			lost()
			return
		default:
			c.log.Warn("whatsapp: renew connection lock failed; will retry", "err", err)
		}
	}
}

// connectOnce runs one client connection until held ends or an event ends it. It
// returns the pause before the next connection (negative: Connect itself failed) and
// whether the device was logged out.
func (c *Channel) connectOnce(ctx, held, jobs context.Context, devices *Devices, dev *store.Device, walog waLog.Logger) (next time.Duration, loggedOut bool) {
	client := whatsmeow.NewClient(dev, walog.Sub("Client"))
	client.SynchronousAck = true             // acknowledge a message only after our handler
	client.EnableDecryptedEventBuffer = true // ... and keep it decrypted until then
	client.InitialAutoReconnect = true       // a network error at start is retried in the background
	session, end := context.WithCancel(held)
	defer end()
	id := client.AddEventHandlerWithSuccessStatus(func(evt any) bool {
		if _, ok := evt.(*events.Connected); ok {
			go c.announce(session, client)
		}
		return c.onEvent(session, jobs, evt)
	})
	defer client.RemoveEventHandler(id)
	// Signals left from an earlier connection are stale.
	for len(c.signals) > 0 {
		<-c.signals
	}
	c.attach(client, dev.LIDs)
	own := *dev.ID
	if err := client.Connect(); err != nil {
		c.detach(stateDisconnected)
		c.log.Warn("whatsapp: connect failed; will retry", "err", redactErr(err, c.pseudo))
		return -1, false
	}
	c.log.Info("whatsapp: connecting", "device", c.pseudo.Of(ChannelName+":"+own.User))

	var redeliver <-chan time.Time
	var lastForced time.Time
	defer func() {
		end()                 // handlers still running give their messages back unacknowledged
		if ctx.Err() != nil { // stopping: let queued replies go out first
			c.waitOutbox()
		}
		c.detach(stateStopped)
		client.Disconnect()
	}()
	for {
		select {
		case <-held.Done():
			return 0, false
		case <-redeliver:
			redeliver = nil
			lastForced = time.Now()
			c.log.Info("whatsapp: reconnecting so that WhatsApp delivers unacknowledged messages again")
			client.Disconnect()
			if err := client.Connect(); err != nil {
				c.log.Warn("whatsapp: reconnect failed; will retry", "err", redactErr(err, c.pseudo))
				return -1, false
			}
		case s := <-c.signals:
			switch s.kind {
			case sigLoggedOut:
				end()
				client.Disconnect()
				fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				if err := devices.Forget(fctx, own); err != nil {
					c.log.Warn("whatsapp: forget logged-out device", "err", err)
				}
				cancel()
				return 0, true
			case sigReplaced:
				return replacedPause, false
			case sigOutdated:
				return outdatedPause, false
			case sigFailed:
				return failedPause, false
			case sigBanned:
				if s.until.IsZero() {
					return banPause, false
				}
				return time.Until(s.until) + time.Minute, false
			case sigRedeliver:
				if redeliver == nil {
					wait := max(redeliverDelay, redeliverMinGap-time.Since(lastForced))
					redeliver = time.After(wait)
				}
			}
		}
	}
}

// announce tells WhatsApp the number is online, so people see "typing…"; without a
// push name (set on the phone) WhatsApp does not take it, which costs only the hint.
func (c *Channel) announce(ctx context.Context, client *whatsmeow.Client) {
	ctx, cancel := context.WithTimeout(ctx, receiptTimeout)
	defer cancel()
	if err := client.SendPresence(ctx, types.PresenceAvailable); err != nil {
		c.log.Debug("whatsapp: send presence failed", "err", redactErr(err, c.pseudo))
	}
}

// saveState records the current state in the device store for `layan whatsapp status`.
func (c *Channel) saveState(ctx context.Context, devices *Devices) {
	c.mu.RLock()
	st := c.state
	c.mu.RUnlock()
	if err := devices.saveState(ctx, st.kind, st.detail(c.cfg.Location), time.Now()); err != nil && ctx.Err() == nil {
		c.log.Debug("whatsapp: save state", "err", err)
	}
}

// --- state ---

// attach makes cl the client that sends and receives, connecting.
func (c *Channel) attach(cl Client, lids LIDMap) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.client, c.lids = cl, lids
	if !c.state.paused() {
		c.state = state{kind: stateConnecting, since: time.Now()}
	}
}

// detach stops sending through the client; a paused state (logged out, banned ...)
// stays, for Health, else the state becomes kind.
func (c *Channel) detach(kind stateKind) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.client = nil
	if !c.state.paused() {
		c.state = state{kind: kind, since: time.Now()}
	}
}

func (c *Channel) setState(s state) {
	s.since = time.Now()
	c.mu.Lock()
	c.state = s
	c.mu.Unlock()
}

// setStateUnlessPaused changes the state unless the channel is paused by an event
// whose news (logged out, banned ...) must stay visible until it is resolved.
func (c *Channel) setStateUnlessPaused(kind stateKind) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state.paused() && kind != stateConnected {
		return
	}
	c.state = state{kind: kind, since: time.Now()}
}

// setStateIf changes the state to kind when it is from.
func (c *Channel) setStateIf(kind, from stateKind) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state.kind == from {
		c.state = state{kind: kind, since: time.Now()}
	}
}

// onConnected marks the channel connected, and tells staff it recovered when they
// had been told it was lost.
func (c *Channel) onConnected(ctx context.Context) {
	c.mu.Lock()
	c.state = state{kind: stateConnected, since: time.Now()}
	recovered := len(c.alerts) > 0
	clear(c.alerts)
	c.mu.Unlock()
	c.log.Info("whatsapp: connected")
	if recovered {
		c.alert(ctx, AlertRecovered, time.Time{})
	}
}

// pause stops sending (the state says why), logs, and alerts staff unless they were
// already told about this kind since the last recovery.
func (c *Channel) pause(ctx context.Context, s state, kind AlertKind, logArgs ...any) {
	s.since = time.Now()
	c.mu.Lock()
	c.state = s
	told := c.alerts[kind]
	c.alerts[kind] = true
	c.mu.Unlock()
	c.log.Error("whatsapp: "+s.detail(c.cfg.Location), logArgs...)
	if !told {
		c.alert(ctx, kind, s.until)
	}
}

// alert hands staff the news, in the background.
func (c *Channel) alert(ctx context.Context, kind AlertKind, until time.Time) {
	key := "whatsapp.alert." + string(kind)
	var data map[string]any
	if kind == AlertBanned && !until.IsZero() {
		key += "_until"
		data = map[string]any{"Date": until.In(c.cfg.Location).Format("02-01-2006 15:04")}
	}
	a := Alert{Kind: kind, Text: c.text("", key, data), Until: until}
	if kind != AlertBanned {
		a.Until = time.Time{}
	}
	if c.cfg.Alert == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		c.cfg.Alert(ctx, a)
	}()
}

// waitOutbox waits until every queued reply was sent, or shutdownGrace has passed.
func (c *Channel) waitOutbox() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	c.outbox.Wait(ctx)
}
