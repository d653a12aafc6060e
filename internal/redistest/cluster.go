package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ClusterNodeTimeout is the cluster-node-timeout of the clusters of
// NewCluster: a primary that does not answer the others for that long is
// failed over to its replica (production clusters use 15 s).
const ClusterNodeTimeout = 1500 * time.Millisecond

// Cluster is a Redis Cluster of one test: three primaries and their
// replicas on loopback ports, killed when the test ends. Its methods
// belong to the test's goroutine.
type Cluster struct {
	t testing.TB
	// Nodes are the cluster's servers, in the order of their creation:
	// redis-cli makes the first three the primaries and the others their
	// replicas.
	Nodes []*Server
}

// StartCluster starts a cluster of three primaries without replicas (see
// NewCluster) and returns the nodes' addresses.
func StartCluster(t testing.TB) []string {
	t.Helper()
	return NewCluster(t, 0).Addrs()
}

// NewCluster starts three cluster-enabled primaries with replicas replicas
// each, joins them into one cluster with redis-cli and returns once every
// node reports cluster_state:ok and every replica is linked to its
// primary.
func NewCluster(t testing.TB, replicas int) *Cluster {
	t.Helper()
	cli := Binary(t, "redis-cli")
	c := &Cluster{t: t}
	n := 3 * (1 + replicas)
	for i := range n {
		dir := t.TempDir()
		s := start(t, true, append([]string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", strconv.FormatInt(ClusterNodeTimeout.Milliseconds(), 10),
		}, replicationArgs(i, n)...)...)
		s.user = replicationUser(i)
		c.Nodes = append(c.Nodes, s)
	}
	begin := time.Now()
	args := append(append([]string{"--cluster", "create"}, c.Addrs()...),
		"--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	// redis-cli waits for the nodes to agree with no time limit of its own.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	c.WaitHealthy()
	if replicas > 0 {
		for _, s := range c.Nodes {
			if role, _ := s.role(); role == "slave" {
				WaitSync(t, c.MasterOf(s), s)
			}
		}
		for _, s := range c.Nodes {
			if role, _ := s.role(); role == "master" {
				warmUp(t, s, replicas)
			}
		}
	}
	t.Logf("cluster of %d nodes ready in %v", n, time.Since(begin).Round(time.Millisecond))
	return c
}

// Addrs returns the addresses of the cluster's nodes.
func (c *Cluster) Addrs() []string { return addrs(c.Nodes) }

// Node returns the node at addr, failing the test when there is none.
func (c *Cluster) Node(addr string) *Server {
	c.t.Helper()
	s := find(c.Nodes, addr)
	if s == nil {
		c.t.Fatalf("no cluster node at %s", addr)
	}
	return s
}

// WaitHealthy waits until every running node reports cluster_state:ok, up
// to a minute.
func (c *Cluster) WaitHealthy() {
	c.t.Helper()
	for _, s := range c.Nodes {
		if !s.proc.Running() {
			continue
		}
		waitFor(c.t, time.Minute, "node "+s.Addr()+": cluster_state:ok", func() (bool, string) {
			info, err := DoString(s.Addr(), "CLUSTER", "INFO")
			if err != nil {
				return false, err.Error()
			}
			return strings.Contains(info, "cluster_state:ok\r"), "not ok"
		})
	}
}

// clusterNode is a line of CLUSTER NODES.
type clusterNode struct {
	id, addr, master string
	flags            []string
}

// nodes returns the cluster as node s sees it.
func (c *Cluster) nodes(s *Server) ([]clusterNode, error) {
	text, err := DoString(s.Addr(), "CLUSTER", "NODES")
	if err != nil {
		return nil, err
	}
	var nodes []clusterNode
	for line := range strings.SplitSeq(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			return nil, fmt.Errorf("CLUSTER NODES line %q", line)
		}
		addr, _, _ := strings.Cut(f[1], "@")
		nodes = append(nodes, clusterNode{id: f[0], addr: addr, master: f[3], flags: strings.Split(f[2], ",")})
	}
	return nodes, nil
}

// myself returns node s as it sees itself.
func (c *Cluster) myself(s *Server) clusterNode {
	c.t.Helper()
	nodes, err := c.nodes(s)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, n := range nodes {
		if slices.Contains(n.flags, "myself") {
			return n
		}
	}
	c.t.Fatalf("%s: no \"myself\" in CLUSTER NODES", s.Addr())
	return clusterNode{}
}

// MasterOf returns the primary of replica, as replica sees it.
func (c *Cluster) MasterOf(replica *Server) *Server {
	c.t.Helper()
	id := c.myself(replica).master
	nodes, err := c.nodes(replica)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, n := range nodes {
		if n.id == id {
			return c.Node(n.addr)
		}
	}
	c.t.Fatalf("%s has no primary", replica.Addr())
	return nil
}

// ReplicaOf returns a running replica of primary, as the replica sees
// itself (the primary may learn of it later).
func (c *Cluster) ReplicaOf(primary *Server) *Server {
	c.t.Helper()
	id := c.myself(primary).id
	for _, s := range c.Nodes {
		if s != primary && s.proc.Running() && c.myself(s).master == id {
			return s
		}
	}
	c.t.Fatalf("%s has no replica", primary.Addr())
	return nil
}

// WaitPromoted waits until replica reports role:master and every running
// node reports cluster_state:ok, up to a minute: the failover after its
// primary was killed is over.
func (c *Cluster) WaitPromoted(replica *Server) {
	c.t.Helper()
	waitFor(c.t, time.Minute, replica.Addr()+": promoted", func() (bool, string) {
		role, err := replica.role()
		return err == nil && role == "master", fmt.Sprintf("role %q (%v)", role, err)
	})
	c.WaitHealthy()
}
