package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/layan-id/layan/bot/console"
	"github.com/layan-id/layan/bot/whatsapp"
	"github.com/layan-id/layan/rungroup"
	"github.com/layan-id/layan/store"
)

// chat runs a conversation in the terminal on the same engine, store and content.
func chat(ctx context.Context, cfg config, stdin io.Reader, stdout, stderr io.Writer) error {
	unlock, err := lockDataDir(cfg)
	if err != nil {
		return err
	}
	defer unlock()
	// Keep the terminal for the conversation: only warnings and errors are logged.
	quiet := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: max(cfg.LogLevel, slog.LevelWarn)}))
	a, err := build(ctx, cfg, quiet, forTerminal)
	if err != nil {
		return err
	}
	g := &rungroup.Group{Logger: quiet}
	g.Add("store", a.runStore)
	g.Add("news", a.notifier.Run)
	g.Add("terminal", func(ctx context.Context) error { // ends the group when the input ends
		intro, err := a.texts.Text("", "console.intro", nil)
		if err != nil {
			return err
		}
		return console.Run(ctx, a.engine, intro, stdin, stdout)
	})
	return g.Run(ctx)
}

// backup writes every key under REDIS_PREFIX to stdout.
func backup(ctx context.Context, cfg config, log *slog.Logger, stdout io.Writer) error {
	stop := fmt.Sprintf("stop the service first; while it runs, copy the whole %s directory: snapshot and journal together", cfg.DataDir)
	return withStore(ctx, cfg, log, stop, func(st *store.Store, emb *store.Embedded) error {
		w := bufio.NewWriter(stdout)
		var n int
		var err error
		if emb != nil {
			n, err = emb.Export(ctx, cfg.RedisPrefix, w) // in-process: no SCAN over a large store
		} else {
			n, err = store.Export(ctx, st.Client(), cfg.RedisPrefix, w)
		}
		if err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("write backup: %w", err)
		}
		log.Info("backup written", "keys", n)
		return nil
	})
}

// restore reads a backup from stdin; a malformed file changes nothing.
func restore(ctx context.Context, cfg config, log *slog.Logger, stdin io.Reader, stderr io.Writer) error {
	return withStore(ctx, cfg, log, "", func(st *store.Store, _ *store.Embedded) error {
		n, err := store.Import(ctx, st.Client(), stdin)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "restored %d keys\n", n)
		return nil
	})
}

// withStore runs a command's work f on the store while no service uses the embedded
// store in DATA_DIR (stop, the hint of the refusal, says how), and closes the store
// afterwards; an error closing it is the command's when f succeeded. emb is the
// embedded store, nil on Redis.
func withStore(ctx context.Context, cfg config, log *slog.Logger, stop string, f func(st *store.Store, emb *store.Embedded) error) error {
	unlock, err := lockDataDir(cfg)
	if err != nil {
		if stop != "" {
			err = fmt.Errorf("%w\n(%s)", err, stop)
		}
		return err
	}
	defer unlock()
	st, emb, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	err = f(st, emb)
	if cerr := closeStore(st, emb); err == nil {
		err = cerr
	}
	return err
}

// closeStore closes the client, or the embedded store after its last snapshot.
func closeStore(st *store.Store, emb *store.Embedded) error {
	if emb != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return emb.Close(ctx)
	}
	return st.Client().Close()
}

// migrateCloud moves the people whatsmeow knew by LID to their numbers, for the
// WhatsApp channel on the Cloud API: the LID map comes from whatsmeow's device store
// (WHATSAPP_DB, or whatsapp.db in DATA_DIR), the data is the store's. It prints
// counts, never a number. Safe to run again; --dry-run only counts.
func migrateCloud(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("whatsapp migrate-cloud", flag.ContinueOnError)
	fs.SetOutput(stdout)
	dry := fs.Bool("dry-run", false, "only count what would move; change nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("usage: layan whatsapp migrate-cloud [--dry-run]")
	}
	if cfg.WhatsAppDB == "" {
		path := filepath.Join(cfg.DataDir, "whatsapp.db")
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("no whatsmeow device store at %s (set DATA_DIR or WHATSAPP_DB as the whatsmeow service had it): %w", path, err)
		}
	}
	var rep store.LIDMove
	err := withStore(ctx, cfg, log, "stop the service first", func(st *store.Store, _ *store.Embedded) error {
		devices, err := whatsapp.OpenDevices(ctx, cfg.DataDir, cfg.WhatsAppDB, whatsapp.NewLogger(log, nil).Sub("Database"))
		if err != nil {
			return err
		}
		defer devices.Close()
		holder, err := st.WhatsApp().ConnLockHolder(ctx)
		if err == nil && holder != "" {
			err = errors.New("a running Layan holds the whatsmeow connection: stop it (or set WHATSAPP_ENABLED=false) first, so nobody writes under a LID while they move")
		}
		if err == nil {
			rep, err = st.MoveWhatsAppLIDs(ctx, devices.PhoneOfLID, *dry)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("whatsapp migrate-cloud: %w", err)
	}
	log.Info("whatsapp: people known by LID moved to their numbers", "people", rep.People, "moved", rep.Moved,
		"unmapped", rep.Unmapped, "busy", rep.Busy, "conflicts", rep.Conflicts, "dry_run", *dry)
	verb := "moved"
	if *dry {
		verb = "would move"
	}
	fmt.Fprintf(stdout, "people known by LID: %d\n%s to their number: %d\n", rep.People, verb, rep.Moved)
	fmt.Fprintf(stdout, "  conversation keys: %d, complaints: %d, subscribers: %d, broadcast run records: %d, queued messages: %d\n",
		rep.Conversations, rep.Complaints, rep.Subscribers, rep.RunRecords, rep.Queued)
	if rep.Unmapped > 0 {
		fmt.Fprintf(stdout, "no number in the device store: %d (left as they are; they start afresh on the Cloud API, their complaints stay in the staff API)\n", rep.Unmapped)
	}
	if rep.Busy > 0 {
		fmt.Fprintf(stdout, "in a conversation turn: %d (run the command again)\n", rep.Busy)
	}
	if rep.Conflicts > 0 {
		fmt.Fprintf(stdout, "records under both the LID and the number that cannot be merged: %d (left under the LID)\n", rep.Conflicts)
	}
	return nil
}
