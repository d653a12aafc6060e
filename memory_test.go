package sessions

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func newMemStore() (*MemoryStore, *testClock) {
	clock := &testClock{now: time.Now()}
	s := NewMemoryStore(testHash, testBlock)
	s.Now = clock.Now
	return s, clock
}

func TestMemoryStoreCopiesValues(t *testing.T) {
	s, _ := newMemStore()
	_, cookie := saveNew(t, s, map[any]any{"list": []any{"a"}})
	a, _ := load(t, s, cookie)
	b, _ := load(t, s, cookie)
	a.Values["x"] = 1
	a.Values["list"].([]any)[0] = "changed"
	if _, ok := b.Values["x"]; ok || b.Values["list"].([]any)[0] != "a" {
		t.Fatal("two loads of one session share their values")
	}
}

func TestMemoryStoreCleanup(t *testing.T) {
	s, clock := newMemStore()
	s.MaxAge(60)
	saveNew(t, s, map[any]any{"a": 1})
	saveNew(t, s, map[any]any{"a": 2})
	if s.Len() != 2 || s.Cleanup() != 0 {
		t.Fatal("fresh records removed")
	}
	clock.Advance(61 * time.Second)
	_, cookie := saveNew(t, s, map[any]any{"a": 3})
	if n := s.Cleanup(); n != 2 || s.Len() != 1 {
		t.Fatalf("Cleanup removed %d, %d left", n, s.Len())
	}
	if got, err := load(t, s, cookie); err != nil || got.Values["a"] != 3 {
		t.Fatalf("live record lost: %v %v", got.Values, err)
	}
}

// TestMemoryStoreCleanerStops runs the cleaner in a synctest bubble: time
// moves only when every goroutine of the bubble is blocked, so the test
// knows when each tick has run without sleeping, and the bubble fails the
// test if the cleaner's goroutine outlives stop.
func TestMemoryStoreCleanerStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewMemoryStore(testHash, testBlock) // on the bubble's clock
		s.MaxAge(90)
		saveNew(t, s, map[any]any{"a": 1})
		stop := s.StartCleanup(time.Minute)
		time.Sleep(61 * time.Second) // one tick: the record has 29 s left
		synctest.Wait()
		if s.Len() != 1 {
			t.Fatalf("the cleaner removed a live record: %d left", s.Len())
		}
		time.Sleep(time.Minute) // the second tick: expired
		synctest.Wait()
		if s.Len() != 0 {
			t.Fatalf("the cleaner left %d expired records", s.Len())
		}
		stop()
		stop()
	})
}

// MemoryStore's Cleanup drops an entry of the user index whose record is
// gone only once it is older than ten minutes (ServerStore adds it a moment
// before it creates the record).
func TestMemoryStoreUserIndexCleanup(t *testing.T) {
	s, clock := newMemStore()
	ctx := context.Background()
	live := saveUser(t, s, "alice")
	pending := newIDForTest(t)
	if err := s.mem.AddUserID(ctx, "alice", pending); err != nil {
		t.Fatal(err)
	}
	s.Cleanup()
	if ids, _ := s.mem.UserIDs(ctx, "alice"); len(ids) != 2 {
		t.Fatalf("Cleanup dropped a young entry: %v", ids)
	}
	clock.Advance(userIndexGrace + time.Second)
	s.Cleanup()
	if ids, _ := s.mem.UserIDs(ctx, "alice"); len(ids) != 1 || ids[0] != live {
		t.Fatalf("after the grace, Cleanup left %v, want only %v", ids, live)
	}
}
