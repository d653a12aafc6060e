package redistest

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// replicationPassword is the password of the replication users.
const replicationPassword = "redistest"

// replicationUser is the ACL user with which node i of a replicated group
// authenticates to its master.
func replicationUser(i int) string { return "replica" + strconv.Itoa(i) }

// replicationArgs returns the redis-server arguments of node i of a group
// of n nodes that replicate from one another: every node defines the
// replication users of all n nodes (so that any node can be the master of
// any other, as after a failover) and authenticates to its own master as
// replicationUser(i). CutLink turns one user off to cut one replica's link.
// Clients and sentinels use the default user, which needs no password.
func replicationArgs(i, n int) []string {
	var args []string
	for k := range n {
		args = append(args, "--user", replicationUser(k), "on", ">"+replicationPassword, "allcommands", "allkeys", "allchannels")
	}
	// A replica's first full synchronisation starts at once instead of 5 s
	// later (the default delay, which waits for more replicas to join).
	return append(args, "--masteruser", replicationUser(i), "--masterauth", replicationPassword,
		"--repl-diskless-sync-delay", "0")
}

// role returns the "role" field of the server's INFO replication ("master"
// or "slave"), or the error.
func (s *Server) role() (string, error) {
	info, err := Info(s.Addr(), "replication")
	if err != nil {
		return "", err
	}
	return info["role"], nil
}

// CutLink cuts the replication link from master to replica for good and
// returns once replica reports its link down: it turns off the replica's
// replication user on master and closes that user's connections. The
// replica keeps trying to reconnect and fails to authenticate, so no write
// made on master from now on reaches it (a stopped process would still
// find the writes in its socket buffer when it resumes). Both must belong
// to one Sentinel or Cluster group.
func CutLink(t testing.TB, master, replica *Server) {
	t.Helper()
	if replica.user == "" {
		t.Fatalf("CutLink: %s is not part of a replicated group", replica.Addr())
	}
	if r, err := Do(master.Addr(), "ACL", "SETUSER", replica.user, "off"); err != nil || r != "OK" {
		t.Fatalf("ACL SETUSER %s off on %s: %v %v", replica.user, master.Addr(), r, err)
	}
	if _, err := Do(master.Addr(), "CLIENT", "KILL", "USER", replica.user); err != nil {
		t.Fatalf("CLIENT KILL USER %s on %s: %v", replica.user, master.Addr(), err)
	}
	waitFor(t, 10*time.Second, "replica "+replica.Addr()+": link down", func() (bool, string) {
		info, err := Info(replica.Addr(), "replication")
		if err != nil {
			return false, err.Error()
		}
		return info["master_link_status"] == "down", "master_link_status:" + info["master_link_status"]
	})
}

// WaitSync waits until each of replicas has received every write that
// master had replicated when WaitSync was called (its slave_repl_offset
// has reached master's master_repl_offset), up to 30 seconds. Tests call
// it before killing a master when what they check is that acknowledged,
// replicated writes survive a failover.
func WaitSync(t testing.TB, master *Server, replicas ...*Server) {
	t.Helper()
	info, err := Info(master.Addr(), "replication")
	if err != nil {
		t.Fatalf("INFO replication on %s: %v", master.Addr(), err)
	}
	want, err := strconv.ParseInt(info["master_repl_offset"], 10, 64)
	if err != nil {
		t.Fatalf("master_repl_offset of %s: %q", master.Addr(), info["master_repl_offset"])
	}
	for _, r := range replicas {
		waitFor(t, 30*time.Second, fmt.Sprintf("replica %s: offset %d", r.Addr(), want), func() (bool, string) {
			info, err := Info(r.Addr(), "replication")
			if err != nil {
				return false, err.Error()
			}
			got, _ := strconv.ParseInt(info["slave_repl_offset"], 10, 64)
			return info["master_link_status"] == "up" && got >= want,
				fmt.Sprintf("link %s, offset %d", info["master_link_status"], got)
		})
	}
}
