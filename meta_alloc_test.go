//go:build !race

package sessions

import (
	"strings"
	"testing"
)

// TestPutMetaAllocs locks in the allocations of the meta entry of a
// session bound to a user, which every Save of it serializes: the string
// and its place in Values, the bytes being built on the stack.
func TestPutMetaAllocs(t *testing.T) {
	s := NewSession(nil, "s")
	s.user, s.agent, s.created = "alice@example.com", strings.Repeat("Mozilla/5.0 ", 10), 1_800_000_000
	opts := *defaultOptions()
	got := testing.AllocsPerRun(200, func() {
		if putMeta(s, &opts, &opts) {
			delete(s.Values, metaKey)
		}
	})
	if got > 2 {
		t.Errorf("putMeta: %v allocations, want <= 2", got)
	}
}

// TestTakeMetaAllocs: decoding that entry, on every load of the session,
// costs the user key and the User-Agent strings, their base64 being
// decoded on the stack.
func TestTakeMetaAllocs(t *testing.T) {
	s := NewSession(nil, "s")
	s.user, s.agent, s.created = "alice@example.com", strings.Repeat("Mozilla/5.0 ", 10), 1_800_000_000
	opts := *defaultOptions()
	putMeta(s, &opts, &opts)
	meta := s.Values[metaKey]
	user, agent := s.user, s.agent
	got := testing.AllocsPerRun(200, func() {
		s.user, s.agent, s.Values[metaKey] = "", "", meta
		takeMeta(s)
	})
	if got > 2 || s.user != user || s.agent != agent {
		t.Errorf("takeMeta: %v allocations (want <= 2), user %q, User-Agent %q", got, s.user, s.agent)
	}
}
