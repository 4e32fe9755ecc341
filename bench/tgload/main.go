// Command tgload measures a Telegram bot's webhook end to end, Layan's and a grammY
// bot's (bench/grammy) side by side: it plays a fake Bot API and a crowd of people,
// starts each bot pointing at both, posts updates to the bot's webhook the way
// Telegram does, and times each update from its POST to the sendMessage that answers
// it arriving at the fake API.
//
// Each of -chats people writes one update after another, the next as soon as the
// answer to the last arrived (a closed loop, -chats updates in flight). Every person
// first says "halo" (not timed: a new person's greeting), then goes -cycles times
// through the same mix: "menu" typed, the menu's "Info wisata" button pressed, the
// "Pantai" button pressed, a question typed ("ktp ku ilang gmn"). Each timed update
// is answered with exactly one sendMessage, and a pressed button also with one
// answerCallbackQuery (called, or named in the webhook's response as Telegram lets a
// webhook do); a bot that sends more or fewer fails the run. Updates per
// second count from the first timed POST to the last answer; the percentiles are of
// the POST-to-answer times. Each bot first gets an untimed round (-warmup cycles:
// the Node bot's JIT compiles its hot paths); then the bots take turns, -rounds
// times, each round with new people, so that both meet the same machine.
//
//	redis-server --port 6399 --save '' --appendonly no --daemonize yes
//	npm ci --prefix bench/grammy
//	go run ./bench/tgload -redis redis://127.0.0.1:6399
//
// Layan runs as its real binary (built from this checkout) with a real Redis,
// webhook mode and TELEGRAM_SEND_LIMITS=off; the grammY bot with its default
// settings, sessions in the same Redis (another database).
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	token  = "7000000001:AAbenchTOKENbench_bench_benchbench"
	secret = "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz"
	botID  = 7000000001
)

func main() {
	chats := flag.Int("chats", 50, "people writing at once")
	cycles := flag.Int("cycles", 25, "times each person goes through the four-update mix per round")
	warmup := flag.Int("warmup", 25, "cycles of an untimed round each bot gets first (0: none)")
	rounds := flag.Int("rounds", 3, "rounds; the bots take turns in each")
	redisURL := flag.String("redis", "redis://127.0.0.1:6399", "the Redis both bots use (Layan database 14, grammY database 15; both are emptied first)")
	bots := flag.String("bots", "layan,grammy", "which bots to run, in turn")
	node := flag.String("node", "node", "the Node.js to run the grammY bot with")
	layanBin := flag.String("layan", "", "run this Layan binary instead of building one from the checkout (to compare two builds, or to profile one)")
	cpuprofile := flag.String("cpuprofile", "", "write tgload's own CPU profile to this file")
	flag.Parse()
	log.SetFlags(0)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
	}
	err := run(*chats, *cycles, *warmup, *rounds, *redisURL, strings.Split(*bots, ","), *node, *layanBin)
	pprof.StopCPUProfile() // a no-op without -cpuprofile; the profile is written also when the run failed
	if err != nil {
		log.Fatal(err)
	}
}

// result is one bot's figures in one round.
type result struct {
	bot      string
	updates  int
	rate     float64 // updates per second
	p50, p99 time.Duration
	// CPU time per update in the bot's process and in Redis: what the machine's other
	// work moves less than the rates.
	botCPU, redisCPU time.Duration
	// CPU time per update in tgload itself (the people and the fake Bot API): work a
	// real deployment does not share its machine with.
	loadCPU time.Duration
}

func run(chats, cycles, warmup, rounds int, redisURL string, bots []string, node, layanBin string) error {
	api := newFakeAPI()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go api.serve(ln)
	apiRoot := "http://" + ln.Addr().String()

	tmp, err := os.MkdirTemp("", "tgload")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	targets := map[string]*target{}
	for _, name := range bots {
		var t *target
		switch name {
		case "layan":
			t, err = startLayan(tmp, layanBin, apiRoot, redisURL+"/14")
		case "grammy":
			t, err = startGrammy(node, apiRoot, redisURL+"/15")
		default:
			err = fmt.Errorf("unknown bot %q (layan, grammy)", name)
		}
		if err != nil {
			return err
		}
		defer t.stop()
		targets[name] = t
	}
	for name, t := range targets {
		if err := t.ready(api); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}

	var all []result
	base := time.Now().Unix() % 100_000 * 100_000 // new people on every run
	// Untimed first: a Node bot is slower until its JIT compiled the hot paths (a
	// second's difference per thousand updates at first), and a comparison is of
	// the bots as they run for hours.
	if warmup > 0 {
		for i, name := range bots {
			if _, err := load(targets[name], api, chats, warmup, base-int64((i+1)*chats)); err != nil {
				return fmt.Errorf("%s, warming up: %w", name, err)
			}
		}
	}
	for r := range rounds {
		for i, name := range bots {
			first := base + int64((r*len(bots)+i)*chats)
			t := targets[name]
			res, err := load(t, api, chats, cycles, first)
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", name, r+1, err)
			}
			res.bot = name
			all = append(all, res)
			fmt.Printf("round %d  %-7s %6d updates  %7.0f updates/s  p50 %6.2f ms  p99 %6.2f ms  CPU/update: bot %4.0f µs, Redis %3.0f µs, tgload %3.0f µs  load %s\n",
				r+1, name, res.updates, res.rate, ms(res.p50), ms(res.p99),
				us(res.botCPU), us(res.redisCPU), us(res.loadCPU), loadavg())
		}
		if len(bots) == 2 {
			a, b := all[len(all)-2], all[len(all)-1]
			fmt.Printf("round %d  %s/%s: %.2f× the updates/s\n", r+1, a.bot, b.bot, a.rate/b.rate)
		}
	}
	if len(bots) == 2 && rounds > 1 {
		// The machine's speed moves from round to round: the medians say more than
		// any one round.
		var rates, cpus []float64
		for i := 0; i+1 < len(all); i += 2 {
			a, b := all[i], all[i+1]
			rates = append(rates, a.rate/b.rate)
			cpus = append(cpus, float64(b.botCPU)/float64(a.botCPU))
		}
		fmt.Printf("median of %d rounds  %s/%s: %.2f× the updates/s; %s's CPU per update %.2f× %s's\n",
			rounds, all[0].bot, all[1].bot, median(rates), all[1].bot, median(cpus), all[0].bot)
	}
	return nil
}

func median(xs []float64) float64 {
	slices.Sort(xs)
	if n := len(xs); n%2 == 0 {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return xs[len(xs)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }

// processCPU is the CPU time process pid used so far (utime + stime, Linux).
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	_, rest, _ := strings.Cut(string(b), ") ") // after the command name, which may hold spaces
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // clock ticks; 100 a second on Linux
}

// redisCPU is the CPU time the Redis server used so far (INFO cpu).
func redisCPU(redisURL string) time.Duration {
	reply, err := redisCmd(redisURL, "INFO cpu")
	if err != nil {
		return 0
	}
	var total float64
	for _, line := range strings.Split(reply, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return f[0]
}

// target is a bot under test: where its webhook listens, and its process.
type target struct {
	webhook string
	redis   string // its database
	cmd     *exec.Cmd
	ready   func(*fakeAPI) error
}

func (t *target) stop() {
	if t.cmd.Process != nil {
		t.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { t.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.cmd.Process.Kill()
		}
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startLayan starts bin, or when bin is "" the binary built from this checkout, in
// webhook mode.
func startLayan(tmp, bin, apiRoot, redisURL string) (*target, error) {
	if bin == "" {
		bin = filepath.Join(tmp, "layan")
		build := exec.Command("go", "build", "-o", bin, ".")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("build layan (run tgload from the repository's root): %w", err)
		}
	}
	if err := flush(redisURL); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"REDIS_URL="+redisURL, "REDIS_PREFIX=bench:", "DATA_DIR="+filepath.Join(tmp, "data"), "HTTP_ADDR="+addr,
		"LOG_LEVEL=warn", "TELEGRAM_TOKEN="+token, "TELEGRAM_API_ENDPOINT="+apiRoot+"/bot%s/%s",
		"TELEGRAM_WEBHOOK_URL=http://"+addr+"/telegram/webhook", "TELEGRAM_WEBHOOK_SECRET="+secret,
		"TELEGRAM_SEND_LIMITS=off", "REGION_NAME=Kabupaten Contoh")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t := &target{webhook: "http://" + addr + "/telegram/webhook", redis: redisURL, cmd: cmd}
	t.ready = func(api *fakeAPI) error {
		return waitFor(30*time.Second, func() bool { return api.webhookSet(t.webhook) })
	}
	return t, nil
}

// startGrammy starts bench/grammy/bot.js.
func startGrammy(node, apiRoot, redisURL string) (*target, error) {
	if _, err := os.Stat("bench/grammy/node_modules/grammy"); err != nil {
		return nil, errors.New("grammY is not installed: npm ci --prefix bench/grammy")
	}
	if err := flush(redisURL); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(node, "bench/grammy/bot.js")
	cmd.Env = append(os.Environ(), "BOT_TOKEN="+token, "API_ROOT="+apiRoot, "PORT="+port,
		"REDIS_URL="+redisURL, "WEBHOOK_SECRET="+secret, "NODE_ENV=production")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t := &target{webhook: "http://" + addr + "/", redis: redisURL, cmd: cmd}
	t.ready = func(*fakeAPI) error {
		return waitFor(30*time.Second, func() bool {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
			}
			return err == nil
		})
	}
	return t, nil
}

// flush empties the bot's database, so that every run starts alike.
func flush(redisURL string) error {
	reply, err := redisCmd(redisURL, "FLUSHDB")
	if err != nil {
		return err
	}
	if !strings.HasPrefix(reply, "+OK") {
		return fmt.Errorf("redis: FLUSHDB: %q", reply)
	}
	return nil
}

// redisCmd sends one inline command to the database of redisURL and returns the
// reply's text (tgload needs nothing more, and no client library).
func redisCmd(redisURL, cmd string) (string, error) {
	u, err := url.Parse(redisURL)
	if err != nil {
		return "", err
	}
	c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		return "", fmt.Errorf("redis %s: %w", u.Host, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	db := cmp.Or(strings.TrimPrefix(u.Path, "/"), "0")
	fmt.Fprintf(c, "SELECT %s\r\n%s\r\n", db, cmd)
	r := bufio.NewReader(c)
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "+OK") {
		return "", fmt.Errorf("redis %s: SELECT %s: %q %v", u.Host, db, line, err)
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("redis %s: %s: %w", u.Host, cmd, err)
	}
	if !strings.HasPrefix(line, "$") {
		return line, nil
	}
	n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	body := make([]byte, n+2)
	if _, err := io.ReadFull(r, body); err != nil {
		return "", err
	}
	return string(body[:n]), nil
}

func waitFor(d time.Duration, ok func() bool) error {
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// the timed mix: text, or a pressed button's callback data.
var mix = []struct{ text, data string }{
	{text: "menu"}, {data: "tourism"}, {data: "tourism:cat:pantai"}, {text: "ktp ku ilang gmn"},
}

// load runs one round against t and returns its figures.
func load(t *target, api *fakeAPI, chats, cycles int, first int64) (result, error) {
	var updateID atomic.Int64
	updateID.Store(first * 10)
	posters := make([]*poster, chats) // each person's connection to the webhook
	for i := range posters {
		p, err := newPoster(t.webhook)
		if err != nil {
			return result{}, err
		}
		defer p.close()
		posters[i] = p
	}
	post := func(chat int64, msgID int, text, data string) error {
		body := update(int(updateID.Add(1)), chat, msgID, text, data)
		status, reply, err := posters[chat-first].post(body)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("webhook answered %d", status)
		}
		// A webhook may answer with a method for Telegram to call, as Layan answers a
		// pressed button's callback query.
		if len(reply) > 0 {
			var call struct{ Method string }
			if json.Unmarshal(reply, &call) == nil && call.Method == "answerCallbackQuery" {
				api.callbacks.Add(1)
			}
		}
		return nil
	}
	people := make([]int64, chats)
	for i := range people {
		people[i] = first + int64(i)
		api.watch(people[i])
	}
	defer func() {
		for _, p := range people {
			api.unwatch(p)
		}
	}()
	// Untimed: each person says hello and reads the greeting with its menu.
	if err := each(people, func(p int64) error {
		if err := post(p, 1, "halo", ""); err != nil {
			return err
		}
		return api.waitMenu(p, 10*time.Second)
	}); err != nil {
		return result{}, fmt.Errorf("greeting: %w", err)
	}
	time.Sleep(200 * time.Millisecond)
	for _, p := range people {
		api.reset(p)
	}

	lat := make([][]time.Duration, chats)
	cpu0, redis0, self0, callbacks0 := processCPU(t.cmd.Process.Pid), redisCPU(t.redis), processCPU(os.Getpid()), api.callbacks.Load()
	start := time.Now()
	var last atomic.Int64
	err := each(people, func(p int64) error {
		i := int(p - first)
		for c := range cycles {
			for k, u := range mix {
				msgID := 2 + c*len(mix) + k
				t0 := time.Now()
				if err := post(p, msgID, u.text, u.data); err != nil {
					return err
				}
				at, err := api.next(p, 10*time.Second)
				if err != nil {
					return fmt.Errorf("person %d, update %d (%q%q): %w", p, msgID, u.text, u.data, err)
				}
				lat[i] = append(lat[i], at.Sub(t0))
				for {
					l := last.Load()
					if at.UnixNano() <= l || last.CompareAndSwap(l, at.UnixNano()) {
						break
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return result{}, err
	}
	elapsed := time.Unix(0, last.Load()).Sub(start)
	cpu1, redis1, self1 := processCPU(t.cmd.Process.Pid), redisCPU(t.redis), processCPU(os.Getpid())
	time.Sleep(300 * time.Millisecond) // any extra answer would arrive now
	n := chats * cycles * len(mix)
	presses := 0
	for _, u := range mix {
		if u.data != "" {
			presses += chats * cycles
		}
	}
	if got := api.callbacks.Load() - callbacks0; got != int64(presses) {
		return result{}, fmt.Errorf("%d pressed buttons were answered %d times (answerCallbackQuery called or in the webhook's response), want once each", presses, got)
	}
	for _, p := range people {
		if extra := api.pending(p); extra != 0 {
			return result{}, fmt.Errorf("person %d got %d messages more than updates: not one answer per update", p, extra)
		}
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	q := func(f float64) time.Duration { return all[int(f*float64(len(all)-1))] }
	return result{updates: n, rate: float64(n) / elapsed.Seconds(), p50: q(0.5), p99: q(0.99),
		botCPU: (cpu1 - cpu0) / time.Duration(n), redisCPU: (redis1 - redis0) / time.Duration(n),
		loadCPU: (self1 - self0) / time.Duration(n)}, nil
}

// each runs f for every person at once and returns the first error.
func each(people []int64, f func(int64) error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(people))
	for i, p := range people {
		wg.Go(func() { errs[i] = f(p) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// update is a Telegram update from person chat (a private chat): a text message, or
// a press of a button with data on the bot's previous message. It is written by hand,
// not through encoding/json, so that the people cost the machine little beside the
// bots (texts and data are plain ASCII without quotes here).
func update(id int, chat int64, msgID int, text, data string) []byte {
	b := make([]byte, 0, 512)
	b = append(b, `{"update_id":`...)
	b = strconv.AppendInt(b, int64(id), 10)
	user := func(b []byte) []byte {
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, chat, 10)
		return append(b, `,"is_bot":false,"first_name":"Uji","language_code":"id"}`...)
	}
	pchat := func(b []byte) []byte {
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, chat, 10)
		return append(b, `,"type":"private","first_name":"Uji"}`...)
	}
	now := time.Now().Unix()
	if data == "" {
		b = append(b, `,"message":{"message_id":`...)
		b = strconv.AppendInt(b, int64(msgID), 10)
		b = append(b, `,"from":`...)
		b = user(b)
		b = append(b, `,"chat":`...)
		b = pchat(b)
		b = append(b, `,"date":`...)
		b = strconv.AppendInt(b, now, 10)
		b = append(b, `,"text":`...)
		b = strconv.AppendQuote(b, text)
		return append(b, "}}"...)
	}
	b = append(b, `,"callback_query":{"id":"cb`...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, `","from":`...)
	b = user(b)
	b = append(b, `,"chat_instance":"1","data":`...)
	b = strconv.AppendQuote(b, data)
	b = append(b, `,"message":{"message_id":`...)
	b = strconv.AppendInt(b, int64(msgID-1), 10)
	b = append(b, `,"chat":`...)
	b = pchat(b)
	b = append(b, `,"date":`...)
	b = strconv.AppendInt(b, now, 10)
	b = append(b, `,"text":"…","from":{"id":`...)
	b = strconv.AppendInt(b, botID, 10)
	return append(b, `,"is_bot":true,"first_name":"Layan","username":"layan_bench_bot"}}}}`...)
}

// fakeAPI answers the Bot API methods both bots use and tells the waiting people of
// each sendMessage to their chat.
type fakeAPI struct {
	msgID     atomic.Int64
	callbacks atomic.Int64 // answerCallbackQuery, called or in a webhook's response

	mu       sync.Mutex
	webhooks map[string]bool
	inboxes  map[int64]chan sent // per person being watched
}

type sent struct {
	at     time.Time
	markup bool
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{webhooks: map[string]bool{}, inboxes: map[int64]chan sent{}}
}

func (f *fakeAPI) watch(chat int64) {
	f.mu.Lock()
	f.inboxes[chat] = make(chan sent, 64)
	f.mu.Unlock()
}

func (f *fakeAPI) unwatch(chat int64) {
	f.mu.Lock()
	delete(f.inboxes, chat)
	f.mu.Unlock()
}

func (f *fakeAPI) inbox(chat int64) chan sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inboxes[chat]
}

// waitMenu waits for a message with a keyboard to chat.
func (f *fakeAPI) waitMenu(chat int64, d time.Duration) error {
	timeout := time.After(d)
	for {
		select {
		case s := <-f.inbox(chat):
			if s.markup {
				return nil
			}
		case <-timeout:
			return errors.New("no menu came")
		}
	}
}

// next waits for the next message to chat and returns when it arrived.
func (f *fakeAPI) next(chat int64, d time.Duration) (time.Time, error) {
	select {
	case s := <-f.inbox(chat):
		return s.at, nil
	case <-time.After(d):
		return time.Time{}, errors.New("no answer came")
	}
}

// reset drops what chat got so far; pending counts it.
func (f *fakeAPI) reset(chat int64) {
	for f.pending(chat) > 0 {
	}
}

func (f *fakeAPI) pending(chat int64) int {
	n := 0
	for {
		select {
		case <-f.inbox(chat):
			n++
		default:
			return n
		}
	}
}

func (f *fakeAPI) webhookSet(url string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.webhooks[url]
}

// call answers one Bot API call.
func (f *fakeAPI) call(method string, p params) []byte {
	switch method {
	case "getMe":
		return fmt.Appendf(nil, `{"ok":true,"result":{"id":%d,"is_bot":true,"first_name":"Layan","username":"layan_bench_bot","can_join_groups":true,"can_read_all_group_messages":false,"supports_inline_queries":false}}`, botID)
	case "setWebhook":
		f.mu.Lock()
		f.webhooks[p.url] = true
		f.mu.Unlock()
	case "sendMessage":
		at := time.Now()
		chat, _ := strconv.ParseInt(p.chatID, 10, 64)
		if ch := f.inbox(chat); ch != nil {
			ch <- sent{at: at, markup: p.markup}
		}
		return fmt.Appendf(nil, `{"ok":true,"result":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"private"},"text":"ok"}}`,
			f.msgID.Add(1), at.Unix(), chat)
	case "answerCallbackQuery":
		f.callbacks.Add(1)
	}
	return []byte(`{"ok":true,"result":true}`) // and deleteWebhook, setMyCommands ...
}

// params are what the fake API looks at in a Bot API call.
type params struct {
	chatID string
	markup bool // a reply_markup was given
	url    string
}

// readParams reads a call's parameters from its JSON body, or else from its form
// body or query. A form's values are only unescaped where the fake API needs them.
func readParams(body []byte, isJSON bool, query string) (params, error) {
	if isJSON {
		var m struct {
			ChatID      json.RawMessage `json:"chat_id"`
			ReplyMarkup json.RawMessage `json:"reply_markup"`
			URL         string          `json:"url"`
		}
		if len(body) > 0 {
			if err := json.Unmarshal(body, &m); err != nil {
				return params{}, err
			}
		}
		return params{chatID: strings.Trim(string(m.ChatID), `"`), markup: len(m.ReplyMarkup) > 0, url: m.URL}, nil
	}
	form := string(body)
	if form == "" {
		form = query
	}
	var p params
	for form != "" {
		var pair string
		pair, form, _ = strings.Cut(form, "&")
		k, v, _ := strings.Cut(pair, "=")
		switch k {
		case "chat_id":
			p.chatID = v // digits and a sign need no unescaping
		case "reply_markup":
			p.markup = v != ""
		case "url":
			u, err := url.QueryUnescape(v)
			if err != nil {
				return params{}, err
			}
			p.url = u
		}
	}
	return p, nil
}
