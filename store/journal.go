package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The embedded store's journal is a sequence of segment files in the data directory,
// journal-<n>.log, n counting up. A segment starts with a header (journalMagic, then the
// seed of the store's random source as 8 bytes little endian) and holds records:
//
//	length  uint32 LE   length of payload
//	crc     uint32 LE   CRC-32C of payload
//	payload             kind byte, then the kind's data
//
// Kinds: recTick (the clock moved to a time: 8 bytes, unix nanoseconds), recScript (a
// Lua script's source, loaded before the commands that call it), recCommands (commands
// applied together: uvarint count, then each command as uvarint argument count and
// each argument as uvarint length and bytes).
//
// Replaying a segment over the state it started from gives the same state again: the
// commands run in the order they ran, each segment starts with a tick, the clock only
// moves through tick records, and the random source is reseeded from the header.
const (
	journalMagic    = "LAYANJ1\n"
	journalHeader   = len(journalMagic) + 8
	recordHeader    = 8
	maxRecord       = 1 << 30 // a length above this is damage, not a record
	journalPrefix   = "journal-"
	journalSuffix   = ".log"
	recTick         = 't'
	recScript       = 's'
	recCommands     = 'c'
	journalFileMode = 0o600
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// segmentName is the file name of segment n.
func segmentName(n uint64) string {
	return fmt.Sprintf("%s%016d%s", journalPrefix, n, journalSuffix)
}

// segments lists the journal segments in dir in order.
func segments(dir string) ([]uint64, error) {
	names, err := filepath.Glob(filepath.Join(dir, journalPrefix+"*"+journalSuffix))
	if err != nil {
		return nil, err
	}
	var ns []uint64
	for _, p := range names {
		s := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), journalPrefix), journalSuffix)
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	return ns, nil
}

// journal appends records to one segment file and makes them durable with group
// commit: appends only fill a buffer; one goroutine writes what has gathered and
// fsyncs it, so writers that arrive during an fsync share the next one. Wait returns
// once a record is on disk.
type journal struct {
	f    *os.File
	path string

	mu       sync.Mutex
	cond     *sync.Cond // signalled when buf gains data, synced moves, or closing
	buf      []byte     // appended, not yet written
	appended uint64     // number of records appended
	synced   uint64     // number of records on disk
	size     int64      // bytes in the file plus buf
	err      error      // the first write or sync failure; the journal is dead after it
	closing  bool
	done     chan struct{}
	syncs    *atomic.Uint64 // fsyncs done, shared by the store's segments
}

// createSegment creates segment file path (mode 0600, failing if it exists), writes its
// header and makes the file and its directory entry durable.
func createSegment(path string, seed int64, syncs *atomic.Uint64) (*journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, journalFileMode)
	if err != nil {
		return nil, fmt.Errorf("store: journal: create %s: %w", path, err)
	}
	hdr := make([]byte, 0, journalHeader)
	hdr = append(hdr, journalMagic...)
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(seed))
	if _, err := f.Write(hdr); err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("store: journal: create %s: %w", path, err)
	}
	j := &journal{f: f, path: path, size: int64(journalHeader), done: make(chan struct{}), syncs: syncs}
	j.cond = sync.NewCond(&j.mu)
	go j.run()
	return j, nil
}

// append adds one record and returns its number for wait. It never blocks on the disk.
func (j *journal) append(payload []byte) (uint64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return 0, j.err
	}
	if j.closing {
		return 0, errors.New("store: journal is closed")
	}
	j.buf = binary.LittleEndian.AppendUint32(j.buf, uint32(len(payload)))
	j.buf = binary.LittleEndian.AppendUint32(j.buf, crc32.Checksum(payload, crcTable))
	j.buf = append(j.buf, payload...)
	j.size += int64(recordHeader + len(payload))
	j.appended++
	j.cond.Broadcast()
	return j.appended, nil
}

// wait blocks until record n (and every one before it) is on disk.
func (j *journal) wait(n uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.synced < n && j.err == nil {
		j.cond.Wait()
	}
	if j.synced >= n {
		return nil
	}
	return j.err
}

// last returns the number of the latest record appended.
func (j *journal) last() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.appended
}

// bytes returns the segment's size including what is not yet written.
func (j *journal) bytes() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.size
}

func (j *journal) run() {
	defer close(j.done)
	var spare []byte
	for {
		j.mu.Lock()
		for len(j.buf) == 0 && !j.closing {
			j.cond.Wait()
		}
		if len(j.buf) == 0 && j.closing {
			j.mu.Unlock()
			return
		}
		out, target := j.buf, j.appended
		j.buf = spare[:0]
		j.mu.Unlock()

		_, err := j.f.Write(out)
		if err == nil {
			err = j.f.Sync()
			j.syncs.Add(1)
		}

		j.mu.Lock()
		if err != nil && j.err == nil {
			j.err = fmt.Errorf("store: journal %s: %w", j.path, err)
		}
		if err == nil {
			j.synced = target
		}
		spare = out
		j.cond.Broadcast()
		failed := j.err != nil
		j.mu.Unlock()
		if failed {
			return
		}
	}
}

// close writes and syncs what was appended, then closes the file.
func (j *journal) close() error {
	j.mu.Lock()
	j.closing = true
	j.cond.Broadcast()
	j.mu.Unlock()
	<-j.done
	cerr := j.f.Close()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	if cerr != nil {
		return fmt.Errorf("store: journal: close %s: %w", j.path, cerr)
	}
	return nil
}

// Record payloads.

func tickRecord(t time.Time) []byte {
	return binary.LittleEndian.AppendUint64([]byte{recTick}, uint64(t.UnixNano()))
}

func scriptRecord(body string) []byte {
	return append([]byte{recScript}, body...)
}

func commandsRecord(cmds [][]string) []byte {
	b := []byte{recCommands}
	b = binary.AppendUvarint(b, uint64(len(cmds)))
	for _, args := range cmds {
		b = binary.AppendUvarint(b, uint64(len(args)))
		for _, a := range args {
			b = binary.AppendUvarint(b, uint64(len(a)))
			b = append(b, a...)
		}
	}
	return b
}

// record is one decoded journal record.
type journalRecord struct {
	kind   byte
	tick   time.Time
	script string
	cmds   [][]string
}

func decodeRecord(p []byte) (journalRecord, error) {
	if len(p) == 0 {
		return journalRecord{}, errors.New("empty record")
	}
	r := journalRecord{kind: p[0]}
	p = p[1:]
	switch r.kind {
	case recTick:
		if len(p) != 8 {
			return r, errors.New("bad tick record")
		}
		r.tick = time.Unix(0, int64(binary.LittleEndian.Uint64(p))).UTC()
	case recScript:
		r.script = string(p)
	case recCommands:
		n, k := binary.Uvarint(p)
		if k <= 0 || n > uint64(len(p)) {
			return r, errors.New("bad command count")
		}
		p = p[k:]
		r.cmds = make([][]string, 0, n)
		for range n {
			na, k := binary.Uvarint(p)
			if k <= 0 || na == 0 || na > uint64(len(p)) {
				return r, errors.New("bad argument count")
			}
			p = p[k:]
			args := make([]string, 0, na)
			for range na {
				l, k := binary.Uvarint(p)
				if k <= 0 || l > uint64(len(p)-k) {
					return r, errors.New("bad argument length")
				}
				args = append(args, string(p[k:k+int(l)]))
				p = p[k+int(l):]
			}
			r.cmds = append(r.cmds, args)
		}
		if len(p) != 0 {
			return r, errors.New("trailing bytes in a command record")
		}
	default:
		return r, fmt.Errorf("unknown record kind %q", r.kind)
	}
	return r, nil
}

// CorruptJournalError reports damage inside a journal segment that is not a torn last
// record: the service must not start over it.
type CorruptJournalError struct {
	File   string
	Offset int64
	Reason string
}

func (e *CorruptJournalError) Error() string {
	return fmt.Sprintf("store: journal %s is damaged at byte offset %d (%s); it holds acknowledged writes, so Layan will not start without them: restore from a backup, or move the file away to start from the snapshot and the journal before it", e.File, e.Offset, e.Reason)
}

// readSegment reads segment path, calls start with the seed from its header and then fn
// for each record in order. It returns, when the file ends in a torn record (a crash while it was being
// written), the offset where that record starts (else -1). A torn record is only
// acceptable at the end of the newest segment; the caller decides. Damage elsewhere is
// a *CorruptJournalError.
func readSegment(path string, start func(seed int64) error, fn func(journalRecord) error) (torn int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return -1, fmt.Errorf("store: journal: open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return -1, fmt.Errorf("store: journal: %s: %w", path, err)
	}
	size := st.Size()
	r := bufio.NewReaderSize(f, 1<<20)
	hdr := make([]byte, journalHeader)
	if _, err := io.ReadFull(r, hdr); err != nil || string(hdr[:len(journalMagic)]) != journalMagic {
		if size < int64(journalHeader) {
			return 0, nil // created but its header never reached the disk: empty
		}
		return -1, &CorruptJournalError{File: path, Offset: 0, Reason: "not a Layan journal header"}
	}
	if err := start(int64(binary.LittleEndian.Uint64(hdr[len(journalMagic):]))); err != nil {
		return -1, err
	}
	off := int64(journalHeader)
	var rh [recordHeader]byte
	var payload []byte
	for off < size {
		if size-off < recordHeader {
			return off, nil
		}
		if _, err := io.ReadFull(r, rh[:]); err != nil {
			return -1, fmt.Errorf("store: journal: read %s: %w", path, err)
		}
		n := int64(binary.LittleEndian.Uint32(rh[:4]))
		sum := binary.LittleEndian.Uint32(rh[4:])
		end := off + recordHeader + n
		if end > size {
			if n > maxRecord {
				return -1, &CorruptJournalError{File: path, Offset: off, Reason: "impossible record length"}
			}
			return off, nil // the last record was cut short
		}
		payload = slices.Grow(payload[:0], int(n))[:n]
		if _, err := io.ReadFull(r, payload); err != nil {
			return -1, fmt.Errorf("store: journal: read %s: %w", path, err)
		}
		if crc32.Checksum(payload, crcTable) != sum {
			if end == size {
				return off, nil // the last record is only partly on disk
			}
			return -1, &CorruptJournalError{File: path, Offset: off, Reason: "checksum mismatch"}
		}
		rec, err := decodeRecord(payload)
		if err != nil {
			return -1, &CorruptJournalError{File: path, Offset: off, Reason: err.Error()}
		}
		if err := fn(rec); err != nil {
			return -1, err
		}
		off = end
	}
	return -1, nil
}

// syncDir makes a directory's entries (a created or renamed file) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
