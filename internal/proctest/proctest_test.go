package proctest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMain makes the test binary its own child program when PROCTEST_CHILD
// says so: "exit" exits at once, "sleep" runs for a minute.
func TestMain(m *testing.M) {
	switch os.Getenv("PROCTEST_CHILD") {
	case "exit":
		os.Exit(3)
	case "sleep":
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func child(mode string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PROCTEST_CHILD="+mode)
	return cmd
}

func TestProcess(t *testing.T) {
	var p Process
	t.Cleanup(func() { p.Kill(os.Kill, 10*time.Second) })
	never := func() bool { return false }
	if p.Running() || !p.Stop(os.Kill, time.Second) {
		t.Fatal("the zero Process runs")
	}
	p.Kill(os.Kill, time.Second) // nothing to kill

	err := p.Start(child("exit"), never, 10*time.Millisecond, 30*time.Second)
	if err == nil || !strings.Contains(err.Error(), "exited at start") {
		t.Fatalf("Start of a program that exits: %v", err)
	}
	if p.Running() {
		t.Fatal("Running after the program exited")
	}

	err = p.Start(child("sleep"), never, 10*time.Millisecond, 100*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "not ready within 100ms") {
		t.Fatalf("Start of a program never ready: %v", err)
	}
	if !p.Running() {
		t.Fatal("Start stopped the program that was not ready: the caller stops it")
	}
	p.Kill(os.Interrupt, 10*time.Second)
	if p.Running() {
		t.Fatal("Running after Kill")
	}

	calls := 0
	ready := func() bool { calls++; return calls == 3 }
	if err := p.Start(child("sleep"), ready, time.Millisecond, 30*time.Second); err != nil || calls != 3 {
		t.Fatalf("Start: %v after %d calls of ready, want nil after 3", err, calls)
	}
	p.Signal(os.Kill)
	if !p.Stop(os.Kill, 10*time.Second) || p.Running() {
		t.Fatal("the program runs after SIGKILL")
	}
}
