package redistest

import (
	"fmt"
	"strconv"
	"strings"
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

// StartReplicated starts a master (nodes[0]) and replicas replicas of it,
// and returns once every replica is linked to the master and has its data.
// nodeArgs, when not nil, returns extra redis-server arguments for node i.
// The nodes can be cut from one another with CutLink.
func StartReplicated(t testing.TB, replicas int, nodeArgs func(i int) []string) (nodes []*Server) {
	t.Helper()
	n := 1 + replicas
	for i := range n {
		args := replicationArgs(i, n)
		if i > 0 {
			args = append(args, "--replicaof", "127.0.0.1", strconv.Itoa(nodes[0].Port))
		}
		if nodeArgs != nil {
			args = append(args, nodeArgs(i)...)
		}
		node := Start(t, args...)
		node.user = replicationUser(i)
		nodes = append(nodes, node)
	}
	WaitSync(t, nodes[0], nodes[1:]...)
	warmUp(t, nodes[0], replicas)
	return nodes
}

// warmUp makes a write on master and waits with WAIT until n replicas
// have it, up to 30 seconds. Right after their first synchronisation,
// replicas may take up to a second (their periodic acknowledgement) to
// answer a WAIT; a group is ready for tests that wait for replicas once
// one WAIT has returned.
func warmUp(t testing.TB, master *Server, n int) {
	t.Helper()
	const key = "redistest:warm-up"
	r, err := doAll(master.Addr(), 40*time.Second,
		[]string{"SET", key, "1"}, []string{"DEL", key}, []string{"WAIT", strconv.Itoa(n), "30000"})
	if err != nil || r[2] != int64(n) {
		t.Fatalf("WAIT %d on %s: %v %v", n, master.Addr(), r, err)
	}
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
// find the writes in its socket buffer when it resumes). Both must come
// from one StartReplicated, StartSentinel or NewCluster.
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

// WaitSync waits until master reports each of replicas online and
// acknowledging every write that master had replicated when WaitSync was
// called, up to 30 seconds: the replica has the writes, and master knows
// it (as WAIT would count it). Replicas acknowledge once a second unless
// asked, so this takes up to a second. Tests call it before killing a
// master when what they check is that replicated writes survive a
// failover.
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
		waitFor(t, 30*time.Second, fmt.Sprintf("master %s: replica %s online at offset %d", master.Addr(), r.Addr(), want), func() (bool, string) {
			info, err := Info(master.Addr(), "replication")
			if err != nil {
				return false, err.Error()
			}
			// slaveN:ip=127.0.0.1,port=P,state=online,offset=N,lag=0
			for k, v := range info {
				if !strings.HasPrefix(k, "slave") {
					continue
				}
				f := map[string]string{}
				for kv := range strings.SplitSeq(v, ",") {
					if a, b, ok := strings.Cut(kv, "="); ok {
						f[a] = b
					}
				}
				if f["port"] != strconv.Itoa(r.Port) {
					continue
				}
				got, _ := strconv.ParseInt(f["offset"], 10, 64)
				return f["state"] == "online" && got >= want, v
			}
			return false, "not connected"
		})
	}
}
