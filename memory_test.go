package sessions

import (
	"runtime"
	"testing"
	"time"
)

func newMemStore() (*MemoryStore, *fsClock) {
	clock := &fsClock{now: time.Now()}
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

func TestMemoryStoreCleanerStops(t *testing.T) {
	s, clock := newMemStore()
	before := runtime.NumGoroutine()
	saveNew(t, s, map[any]any{"a": 1})
	clock.Advance(31 * 24 * time.Hour)
	stop := s.StartCleanup(time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for s.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the cleaner never removed the expired record")
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	stop()
	waitGoroutines(t, before)
}
