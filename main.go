// Command layan is Layan's service: a chatbot that lets a regency serve its people
// over chat. It reads its configuration from the environment (see README.md).
//
//	layan            serve the web chat, APIs and channels on HTTP_ADDR
//	layan chat       chat in this terminal with the same engine and content
//	layan backup     write every key of REDIS_PREFIX as JSON lines to stdout
//	layan restore    read such a backup from stdin (all or nothing)
//	layan faq        match questions from stdin, one JSON verdict per line
//	layan faq unanswered   the most frequent questions the FAQ could not answer
//	layan staff add|list|disable|passwd|token|link   staff accounts
//	layan whatsapp pair|status   link the WhatsApp number, or see whether it is linked
//	layan whatsapp migrate-cloud   move people whatsmeow knew by LID to their numbers, for the Cloud API
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/layan-id/layan/bot/whatsapp"
)

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "layan:", err)
		os.Exit(1)
	}
}

// defaultGCPercent is the garbage collector's target when GOGC is not set: twice Go's
// default. Layan's live heap is small (tens of MB) and a message allocates a few
// kilobytes, so collecting half as often costs little memory and saved about a tenth
// of the CPU per Telegram update under bench/tgload (README, "Against a grammY bot").
const defaultGCPercent = 200

const usage = `usage: layan [command]

commands:
  (none)    serve the web chat and APIs on HTTP_ADDR (default 127.0.0.1:8080)
  chat      chat with Layan in this terminal
  backup    write all of Layan's data as JSON lines to standard output
  restore   replace Layan's data with a backup read from standard input
  healthcheck  exit 0 when the service on HTTP_ADDR is ready (/readyz), else 1: for
            container health checks, where no curl is at hand
  faq       answer questions from standard input as JSON lines (--kb FILE to use
            another knowledge base); "faq unanswered" lists what it could not answer
  staff add NAME --role ROLE [--agency CODE]   add a staff account (admin, officer,
            broadcaster, viewer); the password is read from standard input
  staff list | disable NAME | passwd NAME | token NAME | link NAME telegram:123
            list accounts, disable one, set its password, print a new personal API
            token, or let a chat identity act as the account
  whatsapp pair [--phone 62812…]   link the regency's WhatsApp number (QR code, or a code typed on the phone)
  whatsapp status                  is a number linked, and does a running Layan hold its connection
  whatsapp migrate-cloud [--dry-run]   before switching to the Cloud API: move the people whatsmeow
                                   knew by LID (history, complaints, subscriptions) to their numbers

configuration comes from environment variables: see README.md`

// run is main without the process: testable, and every error returned, not exited.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}

	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "":
		return serve(ctx, cfg, log, stdout)
	case "chat":
		return chat(ctx, cfg, stdin, stdout, stderr)
	case "backup":
		return backup(ctx, cfg, log, stdout)
	case "restore":
		return restore(ctx, cfg, log, stdin, stderr)
	case "faq":
		return faqCommand(ctx, cfg, log, args[1:], stdin, stdout)
	case "staff":
		return staffCommand(ctx, cfg, log, args[1:], stdin, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, cfg.HTTPAddr)
	case "whatsapp":
		if len(args) > 1 && args[1] == "migrate-cloud" { // the store too: needs the data-dir lock
			return migrateCloud(ctx, cfg, log, args[2:], stdout)
		}
		// the device store only: no Redis and no data-dir lock, so it runs beside the service
		return whatsapp.Command(ctx, whatsapp.DeviceConfig{DataDir: cfg.DataDir, DB: cfg.WhatsAppDB, Logger: log}, args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return errors.New("unknown command " + cmd + "\n" + usage)
}
