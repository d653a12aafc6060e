package redisstore_test

import (
	"os"
	"testing"

	"github.com/fasthttp-sessions/sessions/internal/redistest"
	"github.com/redis/go-redis/v9"
)

func TestMain(m *testing.M) {
	// go-redis logs one line per failed dial, which the fault tests make by
	// the dozen.
	redis.SetLogger(redistest.QuietLogger{})
	os.Exit(m.Run())
}

// clientOf returns a go-redis client of srv, closed when the test ends.
func clientOf(t testing.TB, srv *redistest.Server) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// clusterClientOf returns a go-redis client of the cluster at addrs,
// closed when the test ends.
func clusterClientOf(t testing.TB, addrs []string) *redis.ClusterClient {
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}
