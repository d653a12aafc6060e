package redistest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Sentinel timings: a master that does not answer for DownAfter is down,
// and a failover gives up after FailoverTimeout (which also spaces two
// failovers of one master by twice as much). Production values are 30 s
// and 3 minutes; these make a failover take a few seconds.
const (
	DownAfter       = 1000 * time.Millisecond
	FailoverTimeout = 3000 * time.Millisecond
)

// MasterName is the name under which the sentinels of StartSentinel know
// their master.
const MasterName = "mymaster"

// SentinelConfig describes the group StartSentinel starts.
type SentinelConfig struct {
	// Replicas is the number of replicas of the first master (at least 1).
	Replicas int
	// NodeArgs, when set, returns extra redis-server arguments for data
	// node i (0 is the first master), for example "--replica-priority", "0"
	// for a replica that Sentinel must never promote.
	NodeArgs func(i int) []string
}

// Sentinel is a master, its replicas and three redis-sentinel processes
// watching them with a quorum of two, all on loopback ports, in temporary
// folders, killed when the test ends. Its methods belong to the test's
// goroutine.
type Sentinel struct {
	t testing.TB
	// Nodes are the data servers: Nodes[0] is the first master, the others
	// its replicas. Which one is the master changes with failovers: see
	// Master.
	Nodes []*Server
	// Sentinels are the three redis-sentinel processes.
	Sentinels []*Server
}

// StartSentinel starts the group and returns once every replica is linked
// to the master and every sentinel knows the master, all its replicas and
// the two other sentinels, so that a failover can start at once.
func StartSentinel(t testing.TB, cfg SentinelConfig) *Sentinel {
	t.Helper()
	if cfg.Replicas < 1 {
		t.Fatal("StartSentinel: at least one replica is needed")
	}
	bin := Binary(t, "redis-sentinel")
	begin := time.Now()
	s := &Sentinel{t: t, Nodes: StartReplicated(t, cfg.Replicas, cfg.NodeArgs)}
	master := strconv.Itoa(s.Nodes[0].Port)
	for range 3 {
		s.Sentinels = append(s.Sentinels, launch(t, bin, false, func(port int, dir string) []string {
			conf := filepath.Join(dir, "sentinel.conf")
			text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n", port, dir, filepath.Join(dir, "redis.log")) +
				fmt.Sprintf("sentinel monitor %s 127.0.0.1 %s 2\n", MasterName, master) +
				fmt.Sprintf("sentinel down-after-milliseconds %s %d\n", MasterName, DownAfter.Milliseconds()) +
				fmt.Sprintf("sentinel failover-timeout %s %d\n", MasterName, FailoverTimeout.Milliseconds()) +
				fmt.Sprintf("sentinel parallel-syncs %s %d\n", MasterName, cfg.Replicas)
			if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			return []string{conf}
		}))
	}
	for _, sn := range s.Sentinels {
		waitFor(t, 30*time.Second, "sentinel "+sn.Addr()+" ready", func() (bool, string) {
			r, err := Do(sn.Addr(), "SENTINEL", "MASTER", MasterName)
			if err != nil {
				return false, err.Error()
			}
			m := pairs(r)
			if m["flags"] != "master" || m["num-other-sentinels"] != "2" || m["num-slaves"] != strconv.Itoa(cfg.Replicas) {
				return false, fmt.Sprintf("flags %s, %s other sentinels, %s replicas", m["flags"], m["num-other-sentinels"], m["num-slaves"])
			}
			r, err = Do(sn.Addr(), "SENTINEL", "REPLICAS", MasterName)
			if err != nil {
				return false, err.Error()
			}
			replicas, _ := r.([]any)
			for _, x := range replicas {
				if f := pairs(x)["flags"]; f != "slave" {
					return false, "a replica has flags " + f
				}
			}
			return true, ""
		})
	}
	t.Logf("sentinel group: master %s, %d replicas, ready in %v", s.Nodes[0].Addr(), cfg.Replicas, time.Since(begin).Round(time.Millisecond))
	return s
}

// Addrs returns the addresses of the three sentinels, for
// redis.FailoverOptions.SentinelAddrs.
func (s *Sentinel) Addrs() []string { return addrs(s.Sentinels) }

// masterOf returns the node that the sentinel at addr names as master.
func (s *Sentinel) masterOf(addr string) (*Server, error) {
	r, err := Do(addr, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MasterName)
	if err != nil {
		return nil, err
	}
	a, _ := r.([]any)
	if len(a) != 2 {
		return nil, fmt.Errorf("no master address: %v", r)
	}
	host, _ := a[0].(string)
	port, _ := a[1].(string)
	n := find(s.Nodes, net.JoinHostPort(host, port))
	if n == nil {
		return nil, fmt.Errorf("master %s:%s is none of the group's nodes", host, port)
	}
	return n, nil
}

// Master returns the node that the first sentinel names as master.
func (s *Sentinel) Master() *Server {
	s.t.Helper()
	n, err := s.masterOf(s.Sentinels[0].Addr())
	if err != nil {
		s.t.Fatalf("sentinel %s: %v", s.Sentinels[0].Addr(), err)
	}
	return n
}

// AllName reports whether every sentinel names n as the master. While
// they still name a master that was killed, a client that asks them for
// the master (go-redis's failover client) cannot reach any master.
func (s *Sentinel) AllName(n *Server) bool {
	for _, sn := range s.Sentinels {
		if m, err := s.masterOf(sn.Addr()); err != nil || m != n {
			return false
		}
	}
	return true
}

// Replicas returns the nodes other than master that are still running.
func (s *Sentinel) Replicas(master *Server) []*Server {
	var r []*Server
	for _, n := range s.Nodes {
		if n != master && n.proc.Running() {
			r = append(r, n)
		}
	}
	return r
}

// KillMaster kills the current master with SIGKILL, waits for it to exit
// and returns it.
func (s *Sentinel) KillMaster() *Server {
	s.t.Helper()
	m := s.Master()
	m.Kill()
	return m
}

// WaitFailover waits until every sentinel names a master other than old
// and that node reports role:master, up to a minute, and returns it. The
// other replicas may still be resynchronising with it: see WaitSync.
func (s *Sentinel) WaitFailover(old *Server) *Server {
	s.t.Helper()
	var promoted *Server
	waitFor(s.t, time.Minute, "failover away from "+old.Addr(), func() (bool, string) {
		promoted = nil
		var seen []string
		for _, sn := range s.Sentinels {
			m, err := s.masterOf(sn.Addr())
			if err != nil {
				return false, err.Error()
			}
			seen = append(seen, m.Addr())
			if promoted == nil {
				promoted = m
			}
			if m == old || m != promoted {
				return false, fmt.Sprintf("sentinels name %v", seen)
			}
		}
		role, err := promoted.role()
		if err != nil || role != "master" {
			return false, fmt.Sprintf("%s has role %q (%v)", promoted.Addr(), role, err)
		}
		return true, ""
	})
	return promoted
}
