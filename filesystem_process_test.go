//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || solaris

package sessions

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/exampletest"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/prefork"
)

// The tests of this file share one FilesystemStore folder between real
// processes: this test binary, re-executed as TestFilesystemChild in the
// role named by $SESSIONS_FS_CHILD, talking to the test over its stdin and
// stdout (lines starting with "@@ ").

const fsChildEnv = "SESSIONS_FS_CHILD"

// child is a running child process.
type child struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	quit   chan struct{} // closed once the child is waited for
	stderr *exampletest.LogBuffer
	done   bool
}

// startChild starts this test binary as a child in role, on the folder
// dir, with env added to its environment. The child and, with group, its
// own children are killed when the test ends.
func startChild(t *testing.T, role, dir string, group bool, env ...string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestFilesystemChild$", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(append(os.Environ(), fsChildEnv+"="+role, "SESSIONS_FS_DIR="+dir), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: group}
	c := &child{t: t, cmd: cmd, lines: make(chan string, 64), quit: make(chan struct{}), stderr: &exampletest.LogBuffer{}}
	cmd.Stderr = c.stderr
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.lines)
		r := bufio.NewScanner(out)
		for r.Scan() {
			if line, ok := strings.CutPrefix(r.Text(), "@@ "); ok {
				select {
				case c.lines <- line:
				case <-c.quit: // nobody listens any more: drain to the end
				}
			}
		}
	}()
	t.Cleanup(func() {
		if !c.done {
			c.kill()
		}
	})
	return c
}

// expect waits for the child's next line and returns what follows prefix
// in it; it fails the test if the line does not start with prefix or the
// child exits first.
func (c *child) expect(prefix string) string {
	c.t.Helper()
	select {
	case line, ok := <-c.lines:
		if !ok {
			c.t.Fatalf("the child exited before saying %q:\n%s", prefix, c.stderr)
		}
		rest, found := strings.CutPrefix(line, prefix)
		if !found {
			c.t.Fatalf("the child said %q, want %q", line, prefix)
		}
		return strings.TrimSpace(rest)
	case <-time.After(time.Minute):
		c.t.Fatalf("the child did not say %q within a minute:\n%s", prefix, c.stderr)
		return ""
	}
}

// send writes line to the child's stdin.
func (c *child) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		c.t.Fatal(err)
	}
}

// wait closes the child's stdin and waits for it to exit; it fails the
// test if the child failed.
func (c *child) wait() {
	c.t.Helper()
	_ = c.stdin.Close()
	if err := c.exit(); err != nil {
		c.t.Fatalf("child: %v\n%s", err, c.stderr)
	}
}

// kill kills the child (and its process group if it has one) with SIGKILL
// and waits for it.
func (c *child) kill() {
	if c.cmd.SysProcAttr.Setpgid {
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	} else {
		_ = c.cmd.Process.Kill()
	}
	_ = c.exit()
}

// exit waits for the child to exit.
func (c *child) exit() error {
	err := c.cmd.Wait()
	close(c.quit)
	c.done = true
	return err
}

// processStore returns the store of a test of this file on dir; with
// $SESSIONS_FS_NOEXCHANGE set, it saves as on a file system without
// RENAME_EXCHANGE (or a system other than Linux): new files renamed over.
func processStore(dir string) *FilesystemStore {
	s := NewFilesystemStore(dir, testHash, testBlock)
	s.files.noExchange.Store(os.Getenv("SESSIONS_FS_NOEXCHANGE") != "")
	return s
}

// saveModes runs test once with each way of saving, setting
// $SESSIONS_FS_NOEXCHANGE for the second, for this process and its
// children.
func saveModes(t *testing.T, test func(t *testing.T)) {
	for _, mode := range []string{"swap", "rename"} {
		t.Run(mode, func(t *testing.T) {
			if mode == "rename" {
				t.Setenv("SESSIONS_FS_NOEXCHANGE", "1")
			}
			test(t)
		})
	}
}

// TestFilesystemChild is the child process of the tests of this file.
func TestFilesystemChild(t *testing.T) {
	role := os.Getenv(fsChildEnv)
	if role == "" {
		t.Skip("the child process of the multi-process FilesystemStore tests")
	}
	dir := os.Getenv("SESSIONS_FS_DIR")
	switch role {
	case "rewrite":
		childRewrite(t, dir)
	case "serve":
		childServe(t, dir)
	case "crash":
		childCrash(t, dir)
	case "holdlock":
		childHoldLock(t, dir)
	case "prefork":
		childPrefork(t, dir)
	default:
		t.Fatalf("unknown role %q", role)
	}
}

// stdinLines returns a channel of the lines of stdin, closed at its end.
func stdinLines() <-chan string {
	lines := make(chan string)
	go func() {
		defer close(lines)
		r := bufio.NewScanner(os.Stdin)
		for r.Scan() {
			lines <- r.Text()
		}
	}()
	return lines
}

// versionValues are the values that writer w saves at its i-th save: the
// string is one letter repeated, and both its letter and its length (from
// 1 byte to 40 kB, so files of different sizes replace each other) follow
// from w and i, so that a mix of two versions shows.
func versionValues(w, i int) map[any]any {
	return map[any]any{"w": w, "i": i, "v": strings.Repeat(string(rune('a'+(w*7+i)%26)), 1+(i*7919+w*104729)%40000)}
}

// checkVersion returns an error unless values are one whole version.
func checkVersion(values map[any]any) error {
	w, _ := values["w"].(int)
	i, _ := values["i"].(int)
	if want := versionValues(w, i); values["v"] != want["v"] || len(values) != 3 {
		return fmt.Errorf("mixed values: w=%v i=%v and a string of %d bytes", values["w"], values["i"], len(fmt.Sprint(values["v"])))
	}
	return nil
}

// TestFilesystemProcessesNoTornRead loads one session thousands of times
// while two other processes rewrite it, with values of different sizes:
// every load gives one whole version, never an error or a new session.
func TestFilesystemProcessesNoTornRead(t *testing.T) { saveModes(t, testNoTornRead) }

func testNoTornRead(t *testing.T) {
	dir := t.TempDir()
	s := processStore(dir)
	session, cookie := saveNew(t, s, versionValues(0, 0))
	var writers []*child
	for w := 1; w <= 2; w++ {
		writers = append(writers, startChild(t, "rewrite", dir, false, "SESSIONS_FS_COOKIE="+cookie, fmt.Sprint("SESSIONS_FS_WRITER=", w)))
	}
	for _, w := range writers {
		w.expect("saving")
	}
	const loads = 3000
	var errs, news, mixed int
	versions := map[string]bool{}
	for range loads {
		got, err := load(t, s, cookie)
		switch {
		case err != nil:
			errs++
			t.Log(err)
		case got.IsNew:
			news++
		default:
			if err := checkVersion(got.Values); err != nil {
				mixed++
				t.Log(err)
			}
			versions[fmt.Sprint(got.Values["w"], "/", got.Values["i"])] = true
		}
	}
	var saves []string
	for _, w := range writers {
		w.send("stop")
		saves = append(saves, w.expect("saved"))
		w.wait()
	}
	if errs+news+mixed > 0 {
		t.Errorf("%d loads: %d errors, %d new sessions, %d mixed values; want none", loads, errs, news, mixed)
	}
	t.Logf("%d loads saw %d versions; the writers saved %v times", loads, len(versions), saves)
	wantFolder(t, dir, session.ID)
}

// childRewrite loads and saves the session of $SESSIONS_FS_COOKIE in a
// loop, with versionValues of writer $SESSIONS_FS_WRITER, until a line on
// stdin; it says "saving" after its first save and "saved N" at the end.
func childRewrite(t *testing.T, dir string) {
	s := processStore(dir)
	cookie := os.Getenv("SESSIONS_FS_COOKIE")
	w, _ := strconv.Atoi(os.Getenv("SESSIONS_FS_WRITER"))
	stop := stdinLines()
	for i := 1; ; i++ {
		select {
		case <-stop:
			fmt.Println("@@ saved", i-1)
			return
		default:
		}
		ctx := requestWithCookie("sid", cookie)
		session, err := s.New(ctx, "sid")
		if err != nil || session.IsNew {
			t.Fatalf("load %d: new=%v, %v", i, session.IsNew, err)
		}
		if err := checkVersion(session.Values); err != nil {
			t.Fatal(err)
		}
		for k, v := range versionValues(w, i) {
			session.Values[k] = v
		}
		if err := s.Save(ctx, session); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			fmt.Println("@@ saving")
		}
	}
}

// holder lets a request hold its session between load and save.
type holder struct {
	mu      sync.Mutex
	loaded  chan struct{}
	release chan struct{}
}

func (h *holder) chans() (loaded, release chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.loaded == nil {
		h.loaded, h.release = make(chan struct{}), make(chan struct{})
	}
	return h.loaded, h.release
}

func (h *holder) reset() {
	h.mu.Lock()
	h.loaded, h.release = nil, nil
	h.mu.Unlock()
}

// sessionHandler serves the routes of the cross-process tests on store:
//
//	/login?user=U  a new session holding U
//	/whoami        the session's user, "" if none; saves nothing
//	/incr          adds 1 to the session's "n", saves; answers "PID N"
//	/hold          loads the session, says so to /await, waits for
//	               /release, then sets "n" and saves: answers "saved",
//	               "revoked" (ErrSessionRevoked) or the error
//	/await         answers once /hold has loaded its session
//	/release       lets /hold go on
//	/logout        MaxAge -1 and save
//	/renew         RenewID and save
//	/revokeall?user=U  RevokeUser(U): answers how many sessions it ended
func sessionHandler(store Store) fasthttp.RequestHandler {
	h := &holder{}
	pid := strconv.Itoa(os.Getpid())
	return func(ctx *fasthttp.RequestCtx) {
		path := string(ctx.Path())
		switch path {
		case "/await":
			loaded, _ := h.chans()
			<-loaded
			return
		case "/release":
			_, release := h.chans()
			close(release)
			return
		}
		s, err := store.Get(ctx, "sid")
		if err != nil {
			ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
			return
		}
		switch path {
		case "/login":
			s.Values["user"] = string(ctx.QueryArgs().Peek("user"))
			s.SetUser(string(ctx.QueryArgs().Peek("user")))
		case "/revokeall":
			n, err := s.Store().(*ServerStore).RevokeUser(ctx, string(ctx.QueryArgs().Peek("user")), nil)
			if err != nil {
				ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
				return
			}
			ctx.SetBodyString(strconv.Itoa(n))
			return
		case "/whoami":
			ctx.SetBodyString(s.GetString("user"))
			return
		case "/incr":
			n, _ := s.Values["n"].(int)
			s.Values["n"] = n + 1
			ctx.SetBodyString(pid + " " + strconv.Itoa(n+1))
		case "/hold":
			loaded, release := h.chans()
			close(loaded)
			<-release
			h.reset()
			s.Values["n"] = 1
		case "/logout":
			s.Options.MaxAge = -1
		case "/renew":
			s.RenewID()
		default:
			ctx.NotFound()
			return
		}
		err = s.Save(ctx)
		switch {
		case path == "/hold" && errors.Is(err, ErrSessionRevoked):
			ctx.SetBodyString("revoked")
		case err != nil:
			ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
		case path == "/hold":
			ctx.SetBodyString("saved")
		}
	}
}

// serveSessions serves sessionHandler(store) on 127.0.0.1 in this process
// until the test ends, and returns its address.
func serveSessions(t *testing.T, store Store) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: sessionHandler(store)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	return ln.Addr().String()
}

// childServe serves sessionHandler on the folder until its stdin ends; it
// says "addr HOST:PORT".
func childServe(t *testing.T, dir string) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: sessionHandler(processStore(dir))}
	go func() { _ = srv.Serve(ln) }()
	fmt.Println("@@ addr", ln.Addr())
	for range stdinLines() {
	}
	_ = srv.Shutdown()
}

// browser is a real HTTP client with a cookie jar.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T, keepAlive bool) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, client: &http.Client{
		Jar:       jar,
		Timeout:   time.Minute,
		Transport: &http.Transport{DisableKeepAlives: !keepAlive},
	}}
}

// get sends GET path to addr and returns the body; a status other than 200
// fails the test.
func (b *browser) get(addr, path string) string {
	b.t.Helper()
	body, err := b.tryGet(addr, path)
	if err != nil {
		b.t.Fatal(err)
	}
	return body
}

func (b *browser) tryGet(addr, path string) (string, error) {
	resp, err := b.client.Get("http://" + addr + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	return string(body), err
}

// cookie returns the value of the session cookie the browser holds for
// addr, "" if none.
func (b *browser) cookie(addr string) string {
	for _, c := range b.client.Jar.Cookies(&url.URL{Scheme: "http", Host: addr}) {
		if c.Name == "sid" {
			return c.Value
		}
	}
	return ""
}

// withCookie returns a new browser holding only the session cookie value.
func withCookie(t *testing.T, addr, value string) *browser {
	b := newBrowser(t, false)
	b.client.Jar.SetCookies(&url.URL{Scheme: "http", Host: addr}, []*http.Cookie{{Name: "sid", Value: value, Path: "/"}})
	return b
}

// sessionID returns the ID in a session cookie of the test keys.
func sessionID(t *testing.T, cookie string) string {
	t.Helper()
	var id string
	if _, err := decodeAny(codecsFromPairs(testHash, testBlock), "sid", []byte(cookie), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestFilesystemProcessesLogoutIsFinal runs the same application in two
// processes on one folder, with a real browser. A request of one process
// loads the session and waits; the other process logs the user out, or
// renews the session's ID; the waiting request's Save must then fail with
// ErrSessionRevoked, and the old cookie must find nothing in either
// process.
func TestFilesystemProcessesLogoutIsFinal(t *testing.T) {
	dir := t.TempDir()
	here := serveSessions(t, processStore(dir))
	other := startChild(t, "serve", dir, false)
	there := other.expect("addr")
	names := map[string]string{here: "this process", there: "another process"}
	var live []string
	for _, action := range []string{"/logout", "/renew"} {
		for _, pair := range [][2]string{{here, there}, {there, here}} {
			holder, actor := pair[0], pair[1]
			t.Run(fmt.Sprintf("%s in %s while %s holds it", action[1:], names[actor], names[holder]), func(t *testing.T) {
				b := newBrowser(t, true)
				b.get(actor, "/login?user=alice")
				old := b.cookie(actor)
				held := make(chan string, 1)
				go func() {
					body, err := b.tryGet(holder, "/hold")
					if err != nil {
						body = err.Error()
					}
					held <- body
				}()
				b.get(holder, "/await")
				b.get(actor, action)
				b.get(holder, "/release")
				if got := <-held; got != "revoked" {
					t.Errorf("the stale save of %s: %q, want revoked", names[holder], got)
				}
				for _, addr := range []string{here, there} {
					if user := withCookie(t, addr, old).get(addr, "/whoami"); user != "" {
						t.Errorf("the old cookie in %s: logged in as %q", names[addr], user)
					}
					if action == "/renew" {
						if user := b.get(addr, "/whoami"); user != "alice" {
							t.Errorf("the renewed cookie in %s: %q, want alice", names[addr], user)
						}
					}
				}
				if action == "/renew" {
					// The renewed session, and the forwarding marker
					// that its renewal left under an ID derived from the
					// old one.
					live = append(live, sessionID(t, b.cookie(actor)), markerID(sessionID(t, old)))
				}
			})
		}
	}
	other.wait()
	wantFolder(t, dir, live...)
}

// TestFilesystemProcessesRevokeUser: the user index lives in the folder,
// so a RevokeUser in one process ends the user's sessions made in another,
// including one that a held request there loaded before.
func TestFilesystemProcessesRevokeUser(t *testing.T) {
	dir := t.TempDir()
	here := serveSessions(t, processStore(dir))
	other := startChild(t, "serve", dir, false)
	there := other.expect("addr")
	a, b, c := newBrowser(t, true), newBrowser(t, true), newBrowser(t, true)
	a.get(here, "/login?user=alice")
	b.get(there, "/login?user=alice")
	c.get(here, "/login?user=carol")
	held := make(chan string, 1)
	go func() {
		body, err := a.tryGet(here, "/hold")
		if err != nil {
			body = err.Error()
		}
		held <- body
	}()
	a.get(here, "/await")
	if n := b.get(there, "/revokeall?user=alice"); n != "2" {
		t.Errorf("RevokeUser in another process ended %s sessions, want 2", n)
	}
	a.get(here, "/release")
	if got := <-held; got != "revoked" {
		t.Errorf("a held request's save after RevokeUser: %q, want revoked", got)
	}
	for _, addr := range []string{here, there} {
		if user := a.get(addr, "/whoami"); user != "" {
			t.Errorf("alice's first session after RevokeUser: %q", user)
		}
		if user := b.get(addr, "/whoami"); user != "" {
			t.Errorf("alice's second session after RevokeUser: %q", user)
		}
		if user := c.get(addr, "/whoami"); user != "carol" {
			t.Errorf("carol's session after alice's RevokeUser: %q", user)
		}
	}
	other.wait()
}

// payload is the value the crash tests save: one letter, 20 kB.
func payload(i int) string { return strings.Repeat(string(rune('a'+i%26)), 20000) }

// TestFilesystemProcessKilledWhileSaving kills, with SIGKILL, a process
// that saves four sessions in a loop, ten times: at odd rounds the process
// kills itself in the middle of a save (its new file written, not yet
// swapped in, its lock held), at even rounds the test kills it wherever it is.
// Right after each kill, without any cleanup, every session loads whole in
// this process and saves (the killed process's lock is free, its temporary
// file in the way); in the end, Cleanup removes the file of the last kill,
// and the folder holds only the session files, lock files and empty spare
// files.
func TestFilesystemProcessKilledWhileSaving(t *testing.T) { saveModes(t, testKilledWhileSaving) }

func testKilledWhileSaving(t *testing.T) {
	dir := t.TempDir()
	s := processStore(dir)
	var ids, cookies []string
	for i := range 4 {
		session, cookie := saveNew(t, s, map[any]any{"payload": payload(i)})
		ids, cookies = append(ids, session.ID), append(cookies, cookie)
	}
	// leftovers counts the temporary files and the spare files holding
	// values.
	leftovers := func() int {
		entries, _ := os.ReadDir(dir)
		n := 0
		for _, e := range entries {
			fi, err := e.Info()
			if strings.HasPrefix(e.Name(), tempPrefix) || (strings.HasPrefix(e.Name(), ".spare-") && err == nil && fi.Size() > 0) {
				n++
			}
		}
		return n
	}
	const rounds = 10
	for round := range rounds {
		env := []string{"SESSIONS_FS_COOKIES=" + strings.Join(cookies, " ")}
		if round%2 == 1 {
			env = append(env, fmt.Sprint("SESSIONS_FS_KILL_AT=", round+1))
		}
		c := startChild(t, "crash", dir, false, env...)
		if round%2 == 1 {
			if err := c.exit(); err == nil || !strings.Contains(err.Error(), "killed") {
				t.Fatalf("round %d: the child did not kill itself: %v\n%s", round, err, c.stderr)
			}
			if n := leftovers(); n != 1 {
				t.Errorf("round %d: a kill before the swap left %d files, want 1", round, n)
			}
		} else {
			for range round + 1 {
				c.expect("saved")
			}
			c.kill()
		}
		for i, cookie := range cookies {
			ctx := requestWithCookie("sid", cookie)
			got, err := s.New(ctx, "sid")
			if err != nil || got.IsNew {
				t.Fatalf("round %d, session %d after the kill: new=%v, %v", round, i, got.IsNew, err)
			}
			if v, _ := got.Values["payload"].(string); len(v) != 20000 || strings.Trim(v, v[:1]) != "" {
				t.Fatalf("round %d, session %d holds a torn value", round, i)
			}
			if round < rounds-1 {
				// The child may have been killed in a save that would have
				// set this very payload: "round", which it never sets,
				// makes sure this Save writes (an unchanged one writes
				// nothing, and would leave the child's file to Cleanup).
				got.Values["payload"], got.Values["round"] = payload(round), round
				if err := s.Save(ctx, got); err != nil {
					t.Fatalf("round %d, session %d: saving after the kill: %v", round, i, err)
				}
			}
		}
		if n := leftovers(); round < rounds-1 && n != 0 {
			t.Errorf("round %d: the saves after the kill left %d files", round, n)
		}
	}
	if n, err := s.Cleanup(); n != 1 || err != nil {
		t.Errorf("Cleanup removed %d, %v; want the file left by the last kill", n, err)
	}
	wantFolder(t, dir, ids...)
}

// childCrash saves the sessions of $SESSIONS_FS_COOKIES in turn, saying
// "saved" after each save, until it is killed; with $SESSIONS_FS_KILL_AT=N,
// it kills itself during its N-th save, just before the swap.
func childCrash(t *testing.T, dir string) {
	s := processStore(dir)
	cookies := strings.Fields(os.Getenv("SESSIONS_FS_COOKIES"))
	killAt, _ := strconv.Atoi(os.Getenv("SESSIONS_FS_KILL_AT"))
	for i := 0; ; i++ {
		if i+1 == killAt {
			testHookBeforeRename = func() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL) }
		}
		ctx := requestWithCookie("sid", cookies[i%len(cookies)])
		session, err := s.New(ctx, "sid")
		if err != nil || session.IsNew {
			t.Fatalf("new=%v, %v", session.IsNew, err)
		}
		session.Values["payload"] = payload(i)
		if err := s.Save(ctx, session); err != nil {
			t.Fatal(err)
		}
		fmt.Println("@@ saved")
	}
}

// blockedOnFlock reports whether /proc/locks shows this process waiting
// for the flock of the file described by fi.
func blockedOnFlock(t *testing.T, fi os.FileInfo) bool {
	t.Helper()
	locks, err := os.ReadFile("/proc/locks")
	if err != nil {
		t.Skipf("no /proc/locks: %v", err)
	}
	ino := fmt.Sprint(":", fi.Sys().(*syscall.Stat_t).Ino)
	pid := " " + strconv.Itoa(os.Getpid()) + " "
	for _, line := range strings.Split(string(locks), "\n") {
		// "1: -> FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"
		if f := strings.Fields(line); strings.Contains(line, "-> FLOCK") && strings.Contains(line, pid) && len(f) > 6 && strings.HasSuffix(f[6], ino) {
			return true
		}
	}
	return false
}

// TestFilesystemLockSharedByProcesses: while another process holds the
// lock of a session, each backend method waits for it, and then sees what
// that process did under it (a logout, or a creation of the same ID).
func TestFilesystemLockSharedByProcesses(t *testing.T) {
	if _, err := os.Stat("/proc/locks"); err != nil {
		t.Skip("needs /proc/locks (Linux) to see a process wait for a flock")
	}
	ops := []struct {
		name   string
		exists bool   // the session has a file at the start
		does   string // what the other process does under the lock
		op     func(f *fileBackend, id string) error
		want   error
	}{
		{"Update", true, "delete", func(f *fileBackend, id string) error {
			return f.Update(t.Context(), id, []byte("stale"), time.Hour)
		}, ErrRecordNotFound},
		{"Touch", true, "delete", func(f *fileBackend, id string) error { return f.Touch(t.Context(), id, time.Hour) }, ErrRecordNotFound},
		{"Load", true, "delete", func(f *fileBackend, id string) error {
			_, _, err := f.Load(t.Context(), id)
			return err
		}, ErrRecordNotFound},
		{"Delete", true, "delete", func(f *fileBackend, id string) error { return f.Delete(t.Context(), id) }, ErrRecordNotFound},
		{"Create", false, "create", func(f *fileBackend, id string) error {
			return f.Create(t.Context(), id, []byte("second"), time.Hour)
		}, ErrRecordExists},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			dir := t.TempDir()
			s := processStore(dir)
			id, err := newID(nil)
			if err != nil {
				t.Fatal(err)
			}
			if op.exists {
				if err := s.files.Create(t.Context(), id, []byte("first"), time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			other := startChild(t, "holdlock", dir, false, "SESSIONS_FS_ID="+id)
			other.expect("locked")
			lockFile, err := os.Stat(filepath.Join(dir, fmt.Sprintf(".lock-%02x", stripeOf(id))))
			if err != nil {
				t.Fatal(err)
			}
			result := make(chan error, 1)
			go func() { result <- op.op(s.files, id) }()
			deadline := time.Now().Add(time.Minute)
			for !blockedOnFlock(t, lockFile) {
				select {
				case err := <-result:
					t.Fatalf("%s returned %v while another process held the lock", op.name, err)
				default:
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s never waited for the lock", op.name)
				}
				time.Sleep(time.Millisecond)
			}
			other.send(op.does)
			other.expect("done")
			if err := <-result; !errors.Is(err, op.want) {
				t.Errorf("%s = %v, want %v", op.name, err, op.want)
			}
			other.wait()
			data, err := os.ReadFile(s.files.path(id))
			switch {
			case op.does == "delete" && !errors.Is(err, os.ErrNotExist):
				t.Errorf("after the other process's logout, the file holds %q (%v)", data, err)
			case op.does == "create" && string(data) != "other":
				t.Errorf("the file holds %q (%v), want the other process's", data, err)
			}
		})
	}
}

// childHoldLock takes the lock of session $SESSIONS_FS_ID, says "locked",
// and waits for a line: "delete" removes the session's file, "create"
// writes one; then it releases the lock and says "done".
func childHoldLock(t *testing.T, dir string) {
	f := processStore(dir).files
	id := os.Getenv("SESSIONS_FS_ID")
	l, err := f.lock(id, true)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("@@ locked")
	switch <-stdinLines() {
	case "delete":
		err = os.Remove(f.path(id))
	case "create":
		err = os.WriteFile(f.path(id), []byte("other"), 0o600)
	}
	l.unlock()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("@@ done")
}

// TestFilesystemPrefork serves the application with fasthttp's prefork
// (three processes on one address with SO_REUSEPORT) on one folder; a
// browser opening a new connection for each request logs in, counts, logs
// out, and replays its old cookie: every process sees every save at once,
// and the logout everywhere.
func TestFilesystemPrefork(t *testing.T) {
	dir := t.TempDir()
	master := startChild(t, "prefork", dir, true, "GOMAXPROCS=3")
	addr := master.expect("addr")
	for range 3 {
		master.expect("ready")
	}
	b := newBrowser(t, false)
	b.get(addr, "/login?user=alice")
	served := map[string]bool{}
	for i := 1; i <= 40; i++ {
		pid, n, _ := strings.Cut(b.get(addr, "/incr"), " ")
		if n != strconv.Itoa(i) {
			t.Fatalf("request %d of process %s counted %s", i, pid, n)
		}
		served[pid] = true
	}
	old := b.cookie(addr)
	b.get(addr, "/logout")
	replay := withCookie(t, addr, old)
	for range 40 {
		if user := replay.get(addr, "/whoami"); user != "" {
			t.Fatalf("the cookie of before the logout is logged in as %q", user)
		}
	}
	if len(served) < 2 {
		t.Errorf("one process served every request: %v", served)
	}
	t.Logf("processes that served: %d", len(served))
	master.kill()
	wantFolder(t, dir)
}

// childPrefork is the master of TestFilesystemPrefork (it picks the
// address and says "addr HOST:PORT") and, run again by prefork, each of its
// children (each says "ready PID" once it listens).
func childPrefork(t *testing.T, dir string) {
	srv := &fasthttp.Server{Handler: sessionHandler(processStore(dir))}
	p := prefork.New(srv)
	p.Reuseport = true
	addr := os.Getenv("SESSIONS_FS_ADDR")
	if prefork.IsChild() {
		p.OnMasterDeath = func() { os.Exit(1) }
		serve := p.ServeFunc
		p.ServeFunc = func(ln net.Listener) error {
			fmt.Println("@@ ready", os.Getpid())
			return serve(ln)
		}
	} else {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr().String()
		_ = ln.Close()
		t.Setenv("SESSIONS_FS_ADDR", addr) // for the children
		fmt.Println("@@ addr", addr)
	}
	t.Fatal(p.ListenAndServe(addr))
}
