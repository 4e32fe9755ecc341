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
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store"
)

const staffUsage = `usage:
  layan staff add NAME --role admin|officer|broadcaster|viewer [--agency CODE]   (password from standard input)
  layan staff list
  layan staff disable NAME
  layan staff passwd NAME                (new password from standard input)
  layan staff token NAME                 (prints a new personal API token)
  layan staff link NAME telegram:123     (that chat identity acts as the account)`

// staffCommand manages the staff accounts in the store. Like backup it takes the
// DATA_DIR lock, so it runs while the service is stopped (embedded store) or from
// any machine that reaches the same Redis.
func staffCommand(ctx context.Context, cfg config, log *slog.Logger, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(staffUsage)
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("staff "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "admin, officer, broadcaster or viewer")
	agency := fs.String("agency", "", "an officer's agency code (region.yaml agencies)")
	// flags may come before or after the name
	if err := fs.Parse(args); err != nil {
		return err
	}
	var pos []string
	for fs.NArg() > 0 {
		pos = append(pos, fs.Arg(0))
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return err
		}
	}
	want := map[string]int{"add": 1, "list": 0, "disable": 1, "passwd": 1, "token": 1, "link": 2}
	n, ok := want[sub]
	if !ok || len(pos) != n || (sub != "add" && (*role != "" || *agency != "")) {
		return errors.New(staffUsage)
	}
	var acc domain.StaffAccount
	if sub == "add" {
		region, err := flows.LoadRegion(locales.Content(cfg.ContentDir))
		if err != nil {
			return err
		}
		acc = domain.StaffAccount{Name: pos[0], Role: domain.Role(*role), Agency: *agency}
		if err := domain.ValidateAccount(acc.Name, acc.Role, acc.Agency, region.Agencies); err != nil {
			return err
		}
	}
	var password string
	if sub == "add" || sub == "passwd" {
		p, err := readPassword(stdin, stderr)
		if err != nil {
			return err
		}
		password = p
	}

	stop := "stop the service first, or run the command where REDIS_URL reaches the same Redis"
	return withStore(ctx, cfg, log, stop, func(st *store.Store, _ *store.Embedded) error {
		if err := runStaff(ctx, st.Staff(), sub, pos, acc, password, stdout); err != nil || sub == "list" {
			return err
		}
		// The audit log names the account acted on, never a password or token.
		e := domain.AuditEntry{At: time.Now(), Account: "cli", Action: "staff." + sub, Target: pos[0], From: "cli"}
		switch sub {
		case "add":
			e.Detail = "role=" + describeRole(acc)
		case "link":
			e.Detail = "identity=" + pos[1]
		}
		if err := st.Audit().Record(ctx, e); err != nil {
			log.Warn("staff: audit entry not recorded", "err", err)
		}
		return nil
	})
}

func runStaff(ctx context.Context, st *store.Staff, sub string, pos []string, acc domain.StaffAccount, password string, stdout io.Writer) error {
	switch sub {
	case "add":
		if err := st.Add(ctx, acc, password); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s added (%s)\n", acc.Name, describeRole(acc))
	case "list":
		accs, err := st.List(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tROLE\tAGENCY\tSTATE\tCHAT")
		for _, a := range accs {
			state := "active"
			if a.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", a.Name, a.Role, dash(a.Agency), state, dash(strings.Join(a.Links, ",")))
		}
		return w.Flush()
	case "disable":
		if err := st.Disable(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s disabled: its password, tokens and chats no longer let anyone in\n", pos[0])
	case "passwd":
		if err := st.SetPassword(ctx, pos[0], password); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed\n", pos[0])
	case "token":
		token, err := st.NewToken(ctx, pos[0])
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, token) // only the token: for scripts
	case "link":
		if err := st.Link(ctx, pos[0], pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s now acts as %s\n", pos[1], pos[0])
	}
	return nil
}

func describeRole(a domain.StaffAccount) string {
	if a.Agency != "" {
		return string(a.Role) + " of " + a.Agency
	}
	return string(a.Role)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// readPassword reads the password: on a terminal without echo and twice; otherwise
// one line of stdin, without a prompt.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Password again: ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(first) != string(again) {
			return "", errors.New("the passwords differ; nothing changed")
		}
		return string(first), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("no password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
