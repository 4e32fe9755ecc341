package whatsapp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/lib/pq" // the "postgres" driver, for WHATSAPP_DB=postgres://…
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"
	waLog "go.mau.fi/whatsmeow/util/log"
	_ "modernc.org/sqlite" // the pure-Go "sqlite" driver: builds with CGO_ENABLED=0
)

// sqlitePragmas are the settings every SQLite device store is opened with: whatsmeow
// refuses a store without foreign keys; WAL lets `layan whatsapp status` read while
// the service writes; a busy timeout waits out the other's write instead of failing.
const sqlitePragmas = "_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)"

// ParseDB returns the database/sql driver (which is also whatsmeow's dialect) and
// the data source name of the device store: db is WHATSAPP_DB, "" meaning the SQLite
// file whatsapp.db in dataDir. A postgres:// or postgresql:// URL selects PostgreSQL
// (the store replicas must share); a "file:" DSN another SQLite database (foreign
// keys are switched on when it does not say so). Errors never repeat the URL, which
// may hold a password.
func ParseDB(dataDir, db string) (driver, dsn string, err error) {
	switch {
	case db == "":
		if dataDir == "" {
			dataDir = "."
		}
		return "sqlite", sqliteFileDSN(filepath.Join(dataDir, "whatsapp.db")), nil
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		return "postgres", db, nil
	case strings.HasPrefix(db, "file:"):
		if !strings.Contains(db, "foreign_keys") {
			sep := "?"
			if strings.Contains(db, "?") {
				sep = "&"
			}
			db += sep + "_pragma=foreign_keys(1)"
		}
		return "sqlite", db, nil
	}
	scheme, _, _ := strings.Cut(db, ":")
	if len(scheme) > 20 {
		scheme = scheme[:20]
	}
	return "", "", fmt.Errorf("WHATSAPP_DB: unsupported %q: want a postgres:// URL, a SQLite file: DSN, or nothing for SQLite in DATA_DIR", scheme)
}

func sqliteFileDSN(path string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + esc + "?" + sqlitePragmas
}

// Devices is the device store: whatsmeow's tables, plus one row in which the
// replica holding the connection records how it stands, for `layan whatsapp status`.
type Devices struct {
	container *sqlstore.Container
	db        *sql.DB
}

// stateTable holds one row: the connection state the holding replica last wrote.
const stateTable = `CREATE TABLE IF NOT EXISTS layan_whatsapp_state (
	id INTEGER PRIMARY KEY,
	state TEXT NOT NULL,
	detail TEXT NOT NULL,
	updated_at BIGINT NOT NULL
)`

// OpenDevices opens (creating or upgrading) the device store named as in ParseDB.
// log receives whatsmeow's store messages (see NewLogger).
func OpenDevices(ctx context.Context, dataDir, db string, log waLog.Logger) (*Devices, error) {
	driver, dsn, err := ParseDB(dataDir, db)
	if err != nil {
		return nil, err
	}
	if db == "" {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("whatsapp: create data directory: %w", err)
		}
	}
	path, isFile := sqliteFile(dsn)
	if driver == "sqlite" && isFile {
		if err := ownerOnly(path); err != nil {
			return nil, err
		}
	}
	sqlDB, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("whatsapp: open device store: %w", err)
	}
	container := sqlstore.NewWithDB(sqlDB, driver, log)
	if err := container.Upgrade(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("whatsapp: open device store (%s): %w", driver, err)
	}
	if _, err := sqlDB.ExecContext(ctx, stateTable); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("whatsapp: create state table: %w", err)
	}
	if driver == "sqlite" && isFile {
		// SQLite gives its -wal/-shm/-journal files the database's mode; this
		// settles any left from a version that made the database world-readable.
		if err := ownerOnly(path); err != nil {
			sqlDB.Close()
			return nil, err
		}
	}
	return &Devices{container: container, db: sqlDB}, nil
}

// sqliteFile returns the file a SQLite "file:" DSN names, and false for an in-memory
// database.
func sqliteFile(dsn string) (string, bool) {
	rest, ok := strings.CutPrefix(dsn, "file:")
	if !ok {
		return "", false
	}
	path, query, _ := strings.Cut(rest, "?")
	if p, err := url.PathUnescape(path); err == nil {
		path = p
	}
	if path == "" || path == ":memory:" || strings.Contains(query, "mode=memory") {
		return "", false
	}
	return path, true
}

// ownerOnly makes the SQLite database at path, and those of its side files that
// exist, readable and writable by the owner only (0600), creating the database empty
// when it is missing so that SQLite never creates it with its default 0644: the
// device store holds the keys of the regency's WhatsApp number and the phone numbers
// of the people who write to it.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("whatsapp: create device store file: %w", err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("whatsapp: make device store private: %w", err)
		}
	}
	return nil
}

// Close closes the database.
func (d *Devices) Close() error { return d.container.Close() }

// First returns the linked device, or a new unlinked one (ID nil) when there is none.
func (d *Devices) First(ctx context.Context) (*store.Device, error) {
	dev, err := d.container.GetFirstDevice(ctx)
	if err != nil {
		return nil, fmt.Errorf("whatsapp: read device store: %w", err)
	}
	return dev, nil
}

// Forget deletes the device id from the store (whatsmeow does so itself when it is
// logged out; this makes sure the next look does not find it half-deleted).
func (d *Devices) Forget(ctx context.Context, id types.JID) error {
	if err := d.container.DeleteDevice(ctx, &store.Device{ID: &id}); err != nil {
		return fmt.Errorf("whatsapp: delete logged-out device: %w", err)
	}
	return nil
}

// saveState records the connection state for `layan whatsapp status`.
func (d *Devices) saveState(ctx context.Context, kind stateKind, detail string, now time.Time) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO layan_whatsapp_state (id, state, detail, updated_at)
		VALUES (1, $1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET state = excluded.state, detail = excluded.detail, updated_at = excluded.updated_at`,
		string(kind), detail, now.UnixMilli())
	if err != nil {
		return fmt.Errorf("whatsapp: save connection state: %w", err)
	}
	return nil
}

// lastState returns the state the holding replica last recorded; found is false
// when none ever did.
func (d *Devices) lastState(ctx context.Context) (kind stateKind, detail string, at time.Time, found bool, err error) {
	var k string
	var ms int64
	err = d.db.QueryRowContext(ctx, `SELECT state, detail, updated_at FROM layan_whatsapp_state WHERE id = 1`).Scan(&k, &detail, &ms)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", time.Time{}, false, nil
	}
	if err != nil {
		return "", "", time.Time{}, false, fmt.Errorf("whatsapp: read connection state: %w", err)
	}
	return stateKind(k), detail, time.UnixMilli(ms), true, nil
}

// PhoneOfLID returns the phone number (digits) that whatsmeow's LID store maps the
// LID lid (its digits, without "@lid") to; ok is false when it knows none. It reads
// the map the linked device filled as people wrote (whatsmeow_lid_map), so it works
// without connecting, also after the number moved to the Cloud API.
func (d *Devices) PhoneOfLID(ctx context.Context, lid string) (phone string, ok bool, err error) {
	pn, err := d.container.LIDMap.GetPNForLID(ctx, types.JID{User: lid, Server: types.HiddenUserServer})
	if err != nil {
		return "", false, fmt.Errorf("whatsapp: read the LID map: %w", err)
	}
	if pn.IsEmpty() || pn.User == "" {
		return "", false, nil
	}
	return pn.User, true, nil
}

// PutLIDMapping records that lid stands for phone (both digits) in whatsmeow's LID
// store, as whatsmeow does when it learns it (for tests and repairs).
func (d *Devices) PutLIDMapping(ctx context.Context, lid, phone string) error {
	err := d.container.LIDMap.PutLIDMapping(ctx,
		types.JID{User: lid, Server: types.HiddenUserServer}, types.JID{User: phone, Server: types.DefaultUserServer})
	if err != nil {
		return fmt.Errorf("whatsapp: write the LID map: %w", err)
	}
	return nil
}
