package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/layan-id/layan/bot/console"
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
	a, err := newApp(ctx, cfg, quiet)
	if err != nil {
		return err
	}
	defer a.close()
	intro, err := a.texts.Text("", "console.intro", nil)
	if err != nil {
		return err
	}
	return console.Run(ctx, a.engine, intro, stdin, stdout)
}

// backup writes every key under REDIS_PREFIX to stdout.
func backup(ctx context.Context, cfg config, log *slog.Logger, stdout io.Writer) error {
	unlock, err := lockDataDir(cfg)
	if err != nil {
		return fmt.Errorf("%w\n(stop the service first; while it runs, copy the whole %s directory: snapshot and journal together)", err, cfg.DataDir)
	}
	defer unlock()
	st, emb, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeStore(st, emb)
	w := bufio.NewWriter(stdout)
	var n int
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
}

// restore reads a backup from stdin; a malformed file changes nothing.
func restore(ctx context.Context, cfg config, log *slog.Logger, stdin io.Reader, stderr io.Writer) error {
	unlock, err := lockDataDir(cfg)
	if err != nil {
		return err
	}
	defer unlock()
	st, emb, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	n, err := store.Import(ctx, st.Client(), stdin)
	if cerr := closeStore(st, emb); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "restored %d keys\n", n)
	return nil
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
